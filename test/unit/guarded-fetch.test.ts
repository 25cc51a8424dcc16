import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { checkResolvedUrl, DohResolver } from "../../src/downstream/dns-check";
import { guardedFetch, type FetchLike, type UrlCheck } from "../../src/downstream/guarded-fetch";
import { GatewayError } from "../../src/errors";
import {
  startDohDouble,
  startRedirectServer,
  type DohDouble,
  type Echo,
  type RedirectServer,
} from "./support/net-doubles";

let a: RedirectServer;
let b: RedirectServer;
let doh: DohDouble;
let check: UrlCheck;
const redirectModes: (string | undefined)[] = [];

// Every request the wrapper sends, with the redirect mode it asked for.
const base: FetchLike = (input, init) => {
  redirectModes.push(init?.redirect);
  return fetch(input, init);
};

beforeAll(async () => {
  [a, b, doh] = await Promise.all([
    startRedirectServer(),
    startRedirectServer(),
    startDohDouble({ "internal.test": { A: ["10.0.0.5"] } }),
  ]);
  const resolver = new DohResolver({ endpoint: new URL(doh.url) });
  // The two loopback test servers are allowed; every other URL gets the production policy.
  check = (url) =>
    url.origin === a.origin || url.origin === b.origin
      ? { ok: true }
      : checkResolvedUrl(url, { allowLocal: false, resolver });
});

afterAll(async () => {
  await Promise.all([a.close(), b.close(), doh.close()]);
});

beforeEach(() => {
  a.seen.length = 0;
  b.seen.length = 0;
  redirectModes.length = 0;
});

const guarded = (sensitiveHeaders: string[] = []) => guardedFetch(base, check, { sensitiveHeaders });
const to = (location: string) => encodeURIComponent(location);

async function echo(response: Response): Promise<Echo> {
  expect(response.status).toBe(200);
  return (await response.json()) as Echo;
}

async function refusal(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(GatewayError);
  const { code, message } = error as GatewayError;
  return { code, message };
}

describe("guardedFetch", () => {
  it("follows a same-origin 302, sending every hop with redirect: manual", async () => {
    const result = await echo(await guarded()(`${a.origin}/redirect/302?to=/echo`));
    expect(result).toMatchObject({ method: "GET", path: "/echo", body: "" });
    expect(a.seen.map((seen) => seen.path)).toEqual(["/redirect/302?to=/echo", "/echo"]);
    expect(redirectModes).toEqual(["manual", "manual"]);
  });

  it.each([307, 308])("keeps the method and body on %i", async (status) => {
    const result = await echo(
      await guarded()(`${a.origin}/redirect/${status}?to=/echo`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '{"jsonrpc":"2.0"}',
      }),
    );
    expect(result).toMatchObject({ method: "POST", body: '{"jsonrpc":"2.0"}' });
    expect(result.headers["content-type"]).toBe("application/json");
  });

  it.each([
    [303, "POST", "GET"],
    [303, "PUT", "GET"],
    [301, "POST", "GET"],
    [302, "POST", "GET"],
  ])("turns %i after %s into %s without a body or its headers", async (status, method, expected) => {
    const result = await echo(
      await guarded()(`${a.origin}/redirect/${status}?to=/echo`, {
        method,
        headers: { "content-type": "application/json", "content-language": "en" },
        body: '{"jsonrpc":"2.0"}',
      }),
    );
    expect(result).toMatchObject({ method: expected, body: "" });
    expect(result.headers["content-type"]).toBeUndefined();
    expect(result.headers["content-language"]).toBeUndefined();
  });

  it("keeps PUT and its body on a 301 (only POST changes)", async () => {
    const result = await echo(
      await guarded()(`${a.origin}/redirect/301?to=/echo`, { method: "PUT", body: "payload" }),
    );
    expect(result).toMatchObject({ method: "PUT", body: "payload" });
  });

  it("resends the body of a Request object on a 307", async () => {
    const request = new Request(`${a.origin}/redirect/307?to=/echo`, {
      method: "POST",
      body: "from a Request",
    });
    expect(await echo(await guarded()(request))).toMatchObject({ method: "POST", body: "from a Request" });
  });

  it("refuses to resend a streamed body, but may drop it on a 303", async () => {
    const streamed = (status: number) =>
      guarded()(`${a.origin}/redirect/${status}?to=/echo`, {
        method: "POST",
        body: new Blob(["streamed"]).stream(),
        duplex: "half",
      } as RequestInit);
    expect(await refusal(streamed(307))).toEqual({
      code: "redirect_refused",
      message: `${new URL(a.origin).host} answered 307, which resends the body, and a streamed body cannot be sent twice`,
    });
    expect(await echo(await streamed(303))).toMatchObject({ method: "GET", body: "" });
  });

  it("drops Authorization, Cookie, Proxy-Authorization and marked headers when the origin changes, for good", async () => {
    const headers = {
      authorization: "Bearer secret-token",
      cookie: "session=secret-cookie",
      "proxy-authorization": "Basic c2VjcmV0",
      "x-api-key": "secret-key",
      "x-trace": "kept",
    };
    // Same origin: everything is kept.
    const same = await echo(await guarded(["X-Api-Key"])(`${a.origin}/redirect/302?to=/echo`, { headers }));
    expect(same.headers).toMatchObject(headers);

    // a -> b -> a: the credentials are gone at b and stay gone back at a.
    const back = `${a.origin}/echo`;
    const viaB = `${b.origin}/redirect/302?to=${to(back)}`;
    const result = await echo(
      await guarded(["X-Api-Key"])(`${a.origin}/redirect/302?to=${to(viaB)}`, { headers }),
    );
    const atB = b.seen[0]?.headers ?? {};
    for (const header of [atB, result.headers]) {
      expect(header.authorization).toBeUndefined();
      expect(header.cookie).toBeUndefined();
      expect(header["proxy-authorization"]).toBeUndefined();
      expect(header["x-api-key"]).toBeUndefined();
      expect(header["x-trace"]).toBe("kept");
    }
    expect(JSON.stringify(b.seen)).not.toContain("secret");
  });

  it("refuses a hop to a host that resolves to a private address, without contacting it", async () => {
    const error = await refusal(guarded()(`${a.origin}/redirect/302?to=${to("https://internal.test/mcp")}`));
    expect(error).toEqual({
      code: "url_refused",
      message:
        "the redirect to internal.test was refused: internal.test resolves to 10.0.0.5, which is a private address; downstream servers must resolve only to public addresses",
    });
    expect(a.seen).toHaveLength(1);
    expect(redirectModes).toEqual(["manual"]);
  });

  it.each([
    [
      "http://169.254.169.254/latest/meta-data/",
      "the redirect to 169.254.169.254 was refused: 169.254.169.254 is a link-local (cloud metadata) address",
    ],
    [
      "https://[64:ff9b::a9fe:a9fe]/",
      "the redirect to [64:ff9b::a9fe:a9fe] was refused: [64:ff9b::a9fe:a9fe] is a NAT64 address (it embeds 169.254.169.254)",
    ],
    [
      "file:///etc/passwd",
      "the redirect to file: was refused: only http(s) URLs can be MCP servers, not file:",
    ],
  ])("refuses a hop to %s", async (location, message) => {
    expect(await refusal(guarded()(`${a.origin}/redirect/301?to=${to(location)}`))).toEqual({
      code: "url_refused",
      message,
    });
  });

  it("checks the first URL too", async () => {
    expect(await refusal(guarded()("https://internal.test/mcp"))).toEqual({
      code: "url_refused",
      message:
        "internal.test resolves to 10.0.0.5, which is a private address; downstream servers must resolve only to public addresses",
    });
    expect(redirectModes).toEqual([]);
  });

  it("follows at most 5 redirects", async () => {
    expect(await echo(await guarded()(`${a.origin}/chain/5`))).toMatchObject({ path: "/echo" });
    a.seen.length = 0;
    expect(await refusal(guarded()(`${a.origin}/chain/6`))).toEqual({
      code: "redirect_refused",
      message: `more than 5 redirects (the last one from ${new URL(a.origin).host})`,
    });
    expect(a.seen.map((seen) => seen.path)).toEqual([
      "/chain/6",
      "/chain/5",
      "/chain/4",
      "/chain/3",
      "/chain/2",
      "/chain/1",
    ]);
  });

  it("names a redirect loop as soon as a request would be repeated", async () => {
    expect(await refusal(guarded()(`${a.origin}/loop/a`))).toEqual({
      code: "redirect_refused",
      message: `redirect loop: ${a.origin}/loop/b redirects back to ${a.origin}/loop/a, which was already requested`,
    });
    expect(a.seen.map((seen) => seen.path)).toEqual(["/loop/a", "/loop/b"]);
  });

  it("returns a 3xx without Location, or one the standard does not follow, as it is", async () => {
    expect((await guarded()(`${a.origin}/redirect/302`)).status).toBe(302);
    expect((await guarded()(`${a.origin}/redirect/300?to=/echo`)).status).toBe(300);
    expect((await guarded()(`${a.origin}/redirect/304?to=/echo`)).status).toBe(304);
    expect(a.seen).toHaveLength(3);
  });

  it("refuses a Location that is not a URL", async () => {
    expect(await refusal(guarded()(`${a.origin}/redirect/302?to=${to("http://[oops/")}`))).toEqual({
      code: "redirect_refused",
      message: `${new URL(a.origin).host} redirected to a Location that is not a valid URL`,
    });
  });
});
