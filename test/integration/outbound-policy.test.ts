// The outbound policy modules inside workerd: ipaddr.js bundled and running, DoH lookups and
// redirect handling over workerd's own fetch, against loopback servers started in Node by
// test/unit/support/workers-global-setup.ts.
import { describe, expect, inject, it } from "vitest";
import { checkResolvedUrl, DohResolver } from "../../src/downstream/dns-check";
import { guardedFetch, type UrlCheck } from "../../src/downstream/guarded-fetch";
import { GatewayError } from "../../src/errors";
import { parseSecretBindings, resolveSecretHeaders } from "../../src/downstream/secret-bindings";
import { checkDownstreamUrl, classifyIp } from "../../src/downstream/url-policy";

const MUST_BE_PUBLIC = "downstream servers must resolve only to public addresses";
const [first = "", second = ""] = inject("redirectOrigins");

function resolver(): DohResolver {
  return new DohResolver({ endpoint: new URL(inject("dohUrl")), timeoutMs: 2_000 });
}

interface Echo {
  method: string;
  path: string;
  headers: Record<string, string | undefined>;
  body: string;
}

const check = (url: string, using = resolver()) =>
  checkResolvedUrl(url, { allowLocal: false, resolver: using });

describe("URL and IP classification in workerd", () => {
  it.each([
    ["https://[64:ff9b::a9fe:a9fe]/", "[64:ff9b::a9fe:a9fe] is a NAT64 address (it embeds 169.254.169.254)"],
    ["https://[::127.0.0.1]/", "[::7f00:1] is an IPv4-compatible address (it embeds 127.0.0.1)"],
    ["http://[::ffff:7f00:1]/", "[::ffff:7f00:1] is an IPv4-mapped address (it embeds 127.0.0.1)"],
    ["http://2130706433/", "127.0.0.1 is a loopback address (allowed only when ALLOW_LOCAL_DOWNSTREAM=on)"],
    ["http://0x7f.1/", "127.0.0.1 is a loopback address (allowed only when ALLOW_LOCAL_DOWNSTREAM=on)"],
    ["https://100.64.0.1/", "100.64.0.1 is a carrier-grade NAT address"],
    ["https://mcp.linear.app/mcp", "allowed"],
    ["https://[2606:4700:4700::1111]/", "allowed"],
  ])("%s -> %s", (url, expected) => {
    const verdict = checkDownstreamUrl(url, false);
    expect(verdict.ok ? "allowed" : verdict.reason).toBe(expected);
  });

  it("classifies DNS answers", () => {
    expect(classifyIp("8.8.8.8", false)).toEqual({ ok: true, address: "8.8.8.8" });
    expect(classifyIp("::1", true)).toEqual({ ok: true, address: "::1" });
    expect(classifyIp("fd00::1", true)).toMatchObject({
      ok: false,
      reason: "fd00::1 is a unique local (private) address",
    });
  });
});

describe("DNS check over workerd's fetch", () => {
  it("allows a public name and refuses names that resolve to loopback, private (via CNAME) and ULA addresses", async () => {
    expect(await check("https://public.test/mcp")).toMatchObject({
      ok: true,
      addresses: ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"],
    });
    expect(await check("https://loopback.test/")).toEqual({
      ok: false,
      code: "url_refused",
      reason: `loopback.test resolves to 127.0.0.1, which is a loopback address (allowed only when ALLOW_LOCAL_DOWNSTREAM=on); ${MUST_BE_PUBLIC}`,
    });
    expect(await check("https://alias.test/")).toEqual({
      ok: false,
      code: "url_refused",
      reason: `alias.test resolves to 10.0.0.5, which is a private address; ${MUST_BE_PUBLIC}`,
    });
    expect(await check("https://v6private.test/")).toEqual({
      ok: false,
      code: "url_refused",
      reason: `v6private.test resolves to fd00::5, which is a unique local (private) address; ${MUST_BE_PUBLIC}`,
    });
  });

  it("reports NXDOMAIN and a failing resolver", async () => {
    expect(await check("https://missing.test/")).toEqual({
      ok: false,
      code: "dns",
      reason: "missing.test does not resolve (NXDOMAIN)",
    });
    expect(await check("https://broken.test/")).toEqual({
      ok: false,
      code: "dns",
      reason: `the DNS resolver (${new URL(inject("dohUrl")).host}) answered HTTP 500 for broken.test`,
    });
  });
});

describe("guardedFetch over workerd's fetch", () => {
  const resolving = resolver();
  const guardCheck: UrlCheck = (url) =>
    url.origin === first || url.origin === second
      ? { ok: true }
      : checkResolvedUrl(url, { allowLocal: false, resolver: resolving });
  const guarded = guardedFetch((input, init) => fetch(input, init), guardCheck);

  it("sees workerd's 3xx under redirect: manual and follows it after checking", async () => {
    const response = await guarded(`${first}/redirect/307?to=/echo`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ method: "POST", path: "/echo", body: "{}" });
  });

  it("drops Authorization across origins", async () => {
    const response = await guarded(`${first}/redirect/302?to=${encodeURIComponent(`${second}/echo`)}`, {
      headers: { authorization: "Bearer secret-token", "x-trace": "kept" },
    });
    const echo = (await response.json()) as Echo;
    expect(echo.headers.authorization).toBeUndefined();
    expect(echo.headers["x-trace"]).toBe("kept");
  });

  it("refuses a hop to a name that resolves to a private address", async () => {
    const error = await guarded(
      `${first}/redirect/302?to=${encodeURIComponent("https://alias.test/")}`,
    ).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(GatewayError);
    expect((error as GatewayError).message).toBe(
      `the redirect to alias.test was refused: alias.test resolves to 10.0.0.5, which is a private address; ${MUST_BE_PUBLIC}`,
    );
  });
});

describe("secret bindings in workerd", () => {
  it("resolves on the bound host and refuses elsewhere", () => {
    const parsed = parseSecretBindings("TOKEN=api.example.com");
    if (!parsed.ok) throw new Error(parsed.reason);
    const secrets = { TOKEN: "Bearer value" };
    expect(
      resolveSecretHeaders(
        { Authorization: "env:TOKEN" },
        new URL("https://api.example.com/mcp"),
        parsed.bindings,
        secrets,
      ),
    ).toEqual({ ok: true, headers: { Authorization: "Bearer value" }, secretHeaders: ["Authorization"] });
    expect(
      resolveSecretHeaders(
        { Authorization: "env:TOKEN" },
        new URL("https://evil.example/"),
        parsed.bindings,
        secrets,
      ),
    ).toEqual({
      ok: false,
      code: "secret_refused",
      reason: 'header "Authorization" refers to env:TOKEN, which is not bound to evil.example',
    });
  });
});
