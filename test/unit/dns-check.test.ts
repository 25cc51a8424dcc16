import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  checkResolvedUrl,
  DEFAULT_DNS_RESOLVER_URL,
  DohResolver,
  parseResolverUrl,
  type Resolver,
} from "../../src/downstream/dns-check";
import { startDohDouble, type DohDouble } from "./support/net-doubles";

const PUBLIC_V4 = "93.184.216.34";
const PUBLIC_V6 = "2606:2800:220:1:248:1893:25c8:1946";
const MUST_BE_PUBLIC = "downstream servers must resolve only to public addresses";

let doh: DohDouble;
let resolverHost: string;

beforeAll(async () => {
  doh = await startDohDouble({
    "public.test": { A: [PUBLIC_V4], AAAA: [PUBLIC_V6] },
    "loopback.test": { A: ["127.0.0.1"] },
    "mixed.test": { A: [PUBLIC_V4, "10.0.0.5"] },
    "alias.test": { CNAME: "hop.test" },
    "hop.test": { CNAME: "internal.test" },
    "internal.test": { A: ["192.168.1.10"] },
    "public-alias.test": { CNAME: "public.test" },
    "v6only.test": { AAAA: ["2606:4700:4700::1111"] },
    "v6private.test": { A: [PUBLIC_V4], AAAA: ["fd00::5"] },
    "v6nat64.test": { AAAA: ["64:ff9b::a9fe:a9fe"] },
    "noaddr.test": {},
    "garbage.test": { A: ["not-an-ip"] },
    "slow.test": { A: [PUBLIC_V4], delayMs: 2_000 },
    "broken.test": { httpStatus: 500 },
    "servfail.test": { rcode: 2 },
    "ttl0.test": { A: [PUBLIC_V4], TTL: 0 },
    "ttl5.test": { A: [PUBLIC_V4], TTL: 5 },
    "ttl300.test": { A: [PUBLIC_V4], TTL: 300 },
    "one.test": { A: [PUBLIC_V4] },
    "two.test": { A: [PUBLIC_V4] },
    "three.test": { A: [PUBLIC_V4] },
  });
  resolverHost = new URL(doh.url).host;
});

afterAll(async () => {
  await doh.close();
});

beforeEach(() => {
  doh.queries.length = 0;
});

function resolver(
  options: { timeoutMs?: number; now?: () => number; maxCacheEntries?: number } = {},
): DohResolver {
  return new DohResolver({ endpoint: new URL(doh.url), timeoutMs: 1_000, ...options });
}

const check = (url: string, using: Resolver = resolver()) =>
  checkResolvedUrl(url, { allowLocal: false, resolver: using });

describe("checkResolvedUrl over DNS-over-HTTPS JSON", () => {
  it("allows a name whose A and AAAA addresses are all public, and asks for both", async () => {
    const verdict = await check("https://public.test/mcp");
    expect(verdict).toEqual({
      ok: true,
      url: new URL("https://public.test/mcp"),
      addresses: [PUBLIC_V4, PUBLIC_V6],
    });
    expect(doh.queries.toSorted()).toEqual(["public.test A", "public.test AAAA"]);
  });

  it("refuses a name that resolves to 127.0.0.1 when local servers are not allowed", async () => {
    expect(await check("https://loopback.test/mcp")).toEqual({
      ok: false,
      code: "url_refused",
      reason: `loopback.test resolves to 127.0.0.1, which is a loopback address (allowed only when ALLOW_LOCAL_DOWNSTREAM=on); ${MUST_BE_PUBLIC}`,
    });
  });

  it("refuses a name with one public and one private address", async () => {
    expect(await check("https://mixed.test/")).toEqual({
      ok: false,
      code: "url_refused",
      reason: `mixed.test resolves to 10.0.0.5, which is a private address; ${MUST_BE_PUBLIC}`,
    });
  });

  it("refuses a CNAME chain that ends at a private address, and allows one that ends at a public one", async () => {
    expect(await check("https://alias.test/")).toEqual({
      ok: false,
      code: "url_refused",
      reason: `alias.test resolves to 192.168.1.10, which is a private address; ${MUST_BE_PUBLIC}`,
    });
    expect(await check("https://public-alias.test/")).toMatchObject({
      ok: true,
      addresses: [PUBLIC_V4, PUBLIC_V6],
    });
  });

  it("checks IPv6 answers: public allowed, unique local and NAT64 refused", async () => {
    expect(await check("https://v6only.test/")).toMatchObject({
      ok: true,
      addresses: ["2606:4700:4700::1111"],
    });
    expect(await check("https://v6private.test/")).toEqual({
      ok: false,
      code: "url_refused",
      reason: `v6private.test resolves to fd00::5, which is a unique local (private) address; ${MUST_BE_PUBLIC}`,
    });
    expect(await check("https://v6nat64.test/")).toEqual({
      ok: false,
      code: "url_refused",
      reason: `v6nat64.test resolves to 64:ff9b::a9fe:a9fe, which is a NAT64 address (it embeds 169.254.169.254); ${MUST_BE_PUBLIC}`,
    });
  });

  it("refuses a record whose data is not an IP address", async () => {
    expect(await check("https://garbage.test/")).toEqual({
      ok: false,
      code: "url_refused",
      reason: `garbage.test resolves to not-an-ip, which is not an IP address; ${MUST_BE_PUBLIC}`,
    });
  });

  it("refuses a name that does not exist (NXDOMAIN) or has no address", async () => {
    expect(await check("https://missing.test/")).toEqual({
      ok: false,
      code: "dns",
      reason: "missing.test does not resolve (NXDOMAIN)",
    });
    expect(await check("https://noaddr.test/")).toEqual({
      ok: false,
      code: "dns",
      reason: "noaddr.test has no A or AAAA record",
    });
  });

  it("fails closed with a clear reason when the resolver times out, answers 500, SERVFAIL, or is down", async () => {
    expect(await check("https://slow.test/", resolver({ timeoutMs: 200 }))).toEqual({
      ok: false,
      code: "dns",
      reason: `the DNS resolver (${resolverHost}) did not answer within 200 ms`,
    });
    expect(await check("https://broken.test/")).toEqual({
      ok: false,
      code: "dns",
      reason: `the DNS resolver (${resolverHost}) answered HTTP 500 for broken.test`,
    });
    expect(await check("https://servfail.test/")).toEqual({
      ok: false,
      code: "dns",
      reason: "the DNS resolver answered SERVFAIL for servfail.test",
    });
    const down = await startDohDouble({});
    const downUrl = new URL(down.url);
    await down.close();
    expect(await check("https://public.test/", new DohResolver({ endpoint: downUrl }))).toEqual({
      ok: false,
      code: "dns",
      reason: `the DNS resolver (${downUrl.host}) could not be reached`,
    });
  });

  it("skips DNS for IP-literal hosts, and entirely when local servers are allowed", async () => {
    expect(await check(`https://${PUBLIC_V4}/`)).toMatchObject({ ok: true, addresses: [PUBLIC_V4] });
    expect(await check("https://[2606:4700::1111]/")).toMatchObject({
      ok: true,
      addresses: ["2606:4700::1111"],
    });
    const local = { allowLocal: true, resolver: resolver() };
    expect(await checkResolvedUrl("http://loopback.test:3001/mcp", local)).toMatchObject({
      ok: true,
      addresses: [],
    });
    expect(await checkResolvedUrl("http://missing.test/", local)).toMatchObject({ ok: true });
    expect(doh.queries).toEqual([]);
  });

  it("applies the URL rules before resolving", async () => {
    expect(await check("https://10.0.0.1/")).toEqual({
      ok: false,
      code: "url_refused",
      reason: "10.0.0.1 is a private address",
    });
    expect(await check("http://public.test/")).toMatchObject({ ok: false, code: "url_refused" });
    expect(doh.queries).toEqual([]);
  });

  it("queries the name in lower case without its trailing dot", async () => {
    expect(await check("https://PUBLIC.Test./mcp")).toMatchObject({ ok: true });
    expect(doh.queries.toSorted()).toEqual(["public.test A", "public.test AAAA"]);
  });
});

describe("DohResolver cache", () => {
  it("answers a second lookup from memory, for min(TTL, 60 s)", async () => {
    let now = 1_000_000;
    const cached = resolver({ now: () => now });
    await cached.resolve("ttl300.test");
    expect(doh.queries).toHaveLength(2);
    now += 59_000;
    expect(await cached.resolve("ttl300.test")).toEqual({ ok: true, addresses: [PUBLIC_V4] });
    expect(doh.queries).toHaveLength(2);
    now += 2_000;
    await cached.resolve("ttl300.test");
    expect(doh.queries).toHaveLength(4);
  });

  it("keeps a short TTL short, and does not cache TTL 0 or failures", async () => {
    let now = 1_000_000;
    const cached = resolver({ now: () => now });
    await cached.resolve("ttl5.test");
    now += 4_000;
    await cached.resolve("ttl5.test");
    expect(doh.queries).toHaveLength(2);
    now += 2_000;
    await cached.resolve("ttl5.test");
    expect(doh.queries).toHaveLength(4);

    doh.queries.length = 0;
    await cached.resolve("ttl0.test");
    await cached.resolve("ttl0.test");
    expect(doh.queries).toHaveLength(4);

    doh.queries.length = 0;
    await cached.resolve("missing.test");
    await cached.resolve("missing.test");
    expect(doh.queries).toHaveLength(4);
  });

  it("is bounded: the oldest name is dropped first", async () => {
    const cached = resolver({ maxCacheEntries: 2 });
    await cached.resolve("one.test");
    await cached.resolve("two.test");
    await cached.resolve("three.test");
    doh.queries.length = 0;
    await cached.resolve("three.test");
    await cached.resolve("two.test");
    expect(doh.queries).toEqual([]);
    await cached.resolve("one.test");
    expect(doh.queries.toSorted()).toEqual(["one.test A", "one.test AAAA"]);
  });

  it("does not let a caller change a cached answer", async () => {
    const cached = resolver();
    const first = await cached.resolve("public.test");
    if (first.ok) first.addresses.push("10.0.0.1");
    expect(await cached.resolve("public.test")).toEqual({ ok: true, addresses: [PUBLIC_V4, PUBLIC_V6] });
  });
});

describe("parseResolverUrl (DNS_RESOLVER_URL)", () => {
  it.each([
    [undefined, DEFAULT_DNS_RESOLVER_URL],
    ["", DEFAULT_DNS_RESOLVER_URL],
    ["  ", DEFAULT_DNS_RESOLVER_URL],
    ["https://dns.google/resolve", "https://dns.google/resolve"],
    ["http://127.0.0.1:5353/dns-query", "http://127.0.0.1:5353/dns-query"],
    ["http://localhost:5353/dns-query", "http://localhost:5353/dns-query"],
    ["http://[::1]:5353/dns-query", "http://[::1]:5353/dns-query"],
  ])("accepts %j as %s", (raw, expected) => {
    const parsed = parseResolverUrl(raw);
    expect(parsed.ok && parsed.url.href).toBe(expected);
  });

  it.each([
    [
      "http://resolver.example/dns-query",
      "DNS_RESOLVER_URL must be https (http only on a loopback host), not http://resolver.example",
    ],
    [
      "http://10.0.0.53/dns-query",
      "DNS_RESOLVER_URL must be https (http only on a loopback host), not http://10.0.0.53",
    ],
    [
      "ftp://resolver.example/",
      "DNS_RESOLVER_URL must be https (http only on a loopback host), not ftp://resolver.example",
    ],
    ["https://user:token@resolver.example/", "DNS_RESOLVER_URL must not carry credentials"],
    ["resolver.example", "DNS_RESOLVER_URL is not a valid absolute URL"],
  ])("refuses %s", (raw, reason) => {
    expect(parseResolverUrl(raw)).toEqual({ ok: false, reason });
  });

  it("is enforced by the DohResolver constructor", () => {
    expect(() => new DohResolver({ endpoint: new URL("http://resolver.example/dns-query") })).toThrow(
      new TypeError(
        "DNS_RESOLVER_URL must be https (http only on a loopback host), not http://resolver.example",
      ),
    );
  });
});
