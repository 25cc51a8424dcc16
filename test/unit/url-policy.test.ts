import { describe, expect, it } from "vitest";
import { checkDownstreamUrl, classifyIp } from "../../src/downstream/url-policy";
import { seal, unseal } from "../../src/downstream/seal";

const LOCAL_HINT = "allowed only when ALLOW_LOCAL_DOWNSTREAM=on";
const LOOPBACK = `a loopback address (${LOCAL_HINT})`;

/** "allowed", or the refusal's reason after checking that its code is url_refused. */
function verdict(url: string, allowLocal: boolean): string {
  const result = checkDownstreamUrl(url, allowLocal);
  if (result.ok) return "allowed";
  expect(result.code).toBe("url_refused");
  return result.reason;
}

function ipVerdict(ip: string, allowLocal: boolean): string {
  const result = classifyIp(ip, allowLocal);
  if (result.ok) return `allowed ${result.address}`;
  expect(result.code).toBe("url_refused");
  // The reason is built from the parts a DNS check reuses.
  if (result.description !== "not an IP address") {
    expect(result.reason).toBe(`${result.address} is ${result.description}`);
  }
  return result.reason;
}

// Every case, checked as a production deployment (ALLOW_LOCAL_DOWNSTREAM=off).
const PRODUCTION: [string, string][] = [
  // Public addresses and names pass.
  ["https://mcp.linear.app/mcp", "allowed"],
  ["https://api.githubcopilot.com/mcp/", "allowed"],
  ["https://example.com/mcp?token=abc", "allowed"],
  ["https://93.184.216.34/mcp", "allowed"],
  ["https://1.1.1.1/", "allowed"],
  ["https://8.8.8.8:8443/", "allowed"],
  ["https://172.15.255.255/", "allowed"],
  ["https://172.32.0.0/", "allowed"],
  ["https://100.63.255.255/", "allowed"],
  ["https://100.128.0.0/", "allowed"],
  ["https://198.17.255.255/", "allowed"],
  ["https://198.20.0.0/", "allowed"],
  ["https://[2606:4700:4700::1111]/", "allowed"],
  ["https://[2001:4860:4860::8888]/", "allowed"],
  ["https://[2a00:1450:4001:80b::200e]/", "allowed"],
  // Scheme, credentials, https.
  ["file:///etc/passwd", "only http(s) URLs can be MCP servers, not file:"],
  ["ftp://example.com/", "only http(s) URLs can be MCP servers, not ftp:"],
  ["https://user:pw@example.com/", "put credentials in headers, not in the URL"],
  ["not a url", "the server URL is not a valid absolute URL"],
  ["/relative/path", "the server URL is not a valid absolute URL"],
  ["http://example.com/mcp", `downstream servers must use https (http is ${LOCAL_HINT})`],
  // Loopback, as written and as normalised by the WHATWG parser.
  ["https://127.0.0.1/mcp", `127.0.0.1 is ${LOOPBACK}`],
  ["https://127.1.2.3/", `127.1.2.3 is ${LOOPBACK}`],
  ["http://2130706433/", `127.0.0.1 is ${LOOPBACK}`],
  ["http://0x7f.1/", `127.0.0.1 is ${LOOPBACK}`],
  ["http://0177.0.0.1/", `127.0.0.1 is ${LOOPBACK}`],
  ["https://localhost/mcp", `localhost is ${LOOPBACK}`],
  ["https://LOCALHOST./", `localhost. is ${LOOPBACK}`],
  ["https://%6c%6fcalhost/", `localhost is ${LOOPBACK}`],
  ["https://api.localhost/", `api.localhost is ${LOOPBACK}`],
  ["https://[::1]/", `[::1] is ${LOOPBACK}`],
  ["https://[0:0:0:0:0:0:0:1]/", `[::1] is ${LOOPBACK}`],
  // IPv4 non-public ranges.
  ["https://10.1.2.3/mcp", "10.1.2.3 is a private address"],
  ["https://172.16.0.1/", "172.16.0.1 is a private address"],
  ["https://172.31.255.255/", "172.31.255.255 is a private address"],
  ["https://192.168.0.1/", "192.168.0.1 is a private address"],
  ["https://169.254.169.254/latest", "169.254.169.254 is a link-local (cloud metadata) address"],
  ["https://100.64.0.1/", "100.64.0.1 is a carrier-grade NAT address"],
  ["https://100.100.100.200/", "100.100.100.200 is a carrier-grade NAT address"],
  ["https://0.0.0.0/", "0.0.0.0 is an unspecified address (0.0.0.0/8)"],
  ["http://0/", "0.0.0.0 is an unspecified address (0.0.0.0/8)"],
  ["https://0.1.2.3/", "0.1.2.3 is an unspecified address (0.0.0.0/8)"],
  ["https://198.18.0.1/", "198.18.0.1 is a benchmarking address"],
  ["https://198.19.255.255/", "198.19.255.255 is a benchmarking address"],
  ["https://192.0.2.10/", "192.0.2.10 is a documentation address"],
  ["https://198.51.100.7/", "198.51.100.7 is a documentation address"],
  ["https://203.0.113.9/", "203.0.113.9 is a documentation address"],
  ["https://192.0.0.8/", "192.0.0.8 is a reserved address"],
  ["https://240.0.0.1/", "240.0.0.1 is a reserved address"],
  ["https://255.255.255.255/", "255.255.255.255 is the broadcast address"],
  ["https://224.0.0.1/", "224.0.0.1 is a multicast address"],
  ["https://239.255.255.250/", "239.255.255.250 is a multicast address"],
  // IPv6 forms that embed IPv4, and the other non-public IPv6 ranges.
  ["http://[::ffff:7f00:1]/", "[::ffff:7f00:1] is an IPv4-mapped address (it embeds 127.0.0.1)"],
  [
    "https://[::ffff:169.254.169.254]/",
    "[::ffff:a9fe:a9fe] is an IPv4-mapped address (it embeds 169.254.169.254)",
  ],
  ["https://[64:ff9b::a9fe:a9fe]/", "[64:ff9b::a9fe:a9fe] is a NAT64 address (it embeds 169.254.169.254)"],
  ["https://[64:ff9b::10.0.0.1]/", "[64:ff9b::a00:1] is a NAT64 address (it embeds 10.0.0.1)"],
  ["https://[64:ff9b:1::a]/", "[64:ff9b:1::a] is a local-use NAT64 address (64:ff9b:1::/48)"],
  ["https://[::127.0.0.1]/", "[::7f00:1] is an IPv4-compatible address (it embeds 127.0.0.1)"],
  ["https://[::a9fe:a9fe]/", "[::a9fe:a9fe] is an IPv4-compatible address (it embeds 169.254.169.254)"],
  ["https://[2002:a9fe:a9fe::1]/", "[2002:a9fe:a9fe::1] is a 6to4 address (it embeds 169.254.169.254)"],
  [
    "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",
    "[2001:0:4136:e378:8000:63bf:3fff:fdd2] is a Teredo tunnel address",
  ],
  ["https://[2001:db8::1]/", "[2001:db8::1] is a documentation or reserved address"],
  ["https://[3fff::1]/", "[3fff::1] is a documentation or reserved address"],
  ["https://[fd00::1]/", "[fd00::1] is a unique local (private) address"],
  ["https://[fc00::1]/", "[fc00::1] is a unique local (private) address"],
  ["https://[fe80::1]/", "[fe80::1] is a link-local address"],
  ["https://[fec0::1]/", "[fec0::1] is a site-local (private) address"],
  ["https://[ff02::1]/", "[ff02::1] is a multicast address"],
  ["https://[::]/", "[::] is the unspecified address"],
  ["https://[100::1]/", "[100::1] is a discard-only address"],
  ["https://[4000::1]/", "[4000::1] is outside the global unicast range 2000::/3"],
  // Special-use names.
  ["https://metadata.google.internal/", "metadata.google.internal is an internal metadata host"],
  [
    "https://metadata.google.internal./computeMetadata/v1/",
    "metadata.google.internal. is an internal metadata host",
  ],
  ["https://instance-data.ec2.internal/", "instance-data.ec2.internal is an internal metadata host"],
  ["https://metadata/", "metadata is an internal metadata host"],
  ["https://printer.local/", "printer.local is a multicast DNS (.local) name"],
  ["https://nas.home.arpa/", "nas.home.arpa is a home network (.home.arpa) name"],
];

// ALLOW_LOCAL_DOWNSTREAM=on: http and loopback, and nothing else that is not public.
const LOCAL: [string, string][] = [
  ["http://127.0.0.1:3001/mcp", "allowed"],
  ["http://127.9.9.9/", "allowed"],
  ["http://localhost:3001/mcp", "allowed"],
  ["http://dev.localhost/", "allowed"],
  ["http://[::1]:3001/mcp", "allowed"],
  ["http://2130706433/", "allowed"],
  ["http://0x7f.1/", "allowed"],
  ["http://example.com/mcp", "allowed"],
  ["https://mcp.linear.app/mcp", "allowed"],
  ["http://10.0.0.1/mcp", "10.0.0.1 is a private address"],
  ["http://192.168.1.1/", "192.168.1.1 is a private address"],
  ["http://169.254.169.254/", "169.254.169.254 is a link-local (cloud metadata) address"],
  ["http://100.64.0.1/", "100.64.0.1 is a carrier-grade NAT address"],
  ["http://0.0.0.0:3001/", "0.0.0.0 is an unspecified address (0.0.0.0/8)"],
  ["http://[::ffff:7f00:1]/", "[::ffff:7f00:1] is an IPv4-mapped address (it embeds 127.0.0.1)"],
  ["http://[::127.0.0.1]/", "[::7f00:1] is an IPv4-compatible address (it embeds 127.0.0.1)"],
  ["http://[64:ff9b::a9fe:a9fe]/", "[64:ff9b::a9fe:a9fe] is a NAT64 address (it embeds 169.254.169.254)"],
  ["http://[fd00::1]/", "[fd00::1] is a unique local (private) address"],
  ["http://[fe80::1]/", "[fe80::1] is a link-local address"],
  ["http://metadata.google.internal/", "metadata.google.internal is an internal metadata host"],
  ["http://user:pw@127.0.0.1/", "put credentials in headers, not in the URL"],
  ["file:///etc/passwd", "only http(s) URLs can be MCP servers, not file:"],
];

describe("checkDownstreamUrl", () => {
  it.each(PRODUCTION)("production: %s -> %s", (url, expected) => {
    expect(verdict(url, false)).toBe(expected);
  });

  it.each(LOCAL)("ALLOW_LOCAL_DOWNSTREAM=on: %s -> %s", (url, expected) => {
    expect(verdict(url, true)).toBe(expected);
  });

  it("returns the normalised URL when it allows one", () => {
    const result = checkDownstreamUrl("HTTPS://MCP.Linear.APP:443/mcp", false);
    expect(result.ok && result.url.href).toBe("https://mcp.linear.app/mcp");
  });

  it("never echoes the path, query or credentials of a refused URL", () => {
    for (const url of [
      "https://user:hunter2@10.0.0.1/",
      "https://10.0.0.1/mcp?token=s3cr3t-value",
      "http://example.com/mcp?token=s3cr3t-value",
      "not a url s3cr3t-value hunter2",
    ]) {
      const reason = verdict(url, false);
      expect(reason).not.toContain("hunter2");
      expect(reason).not.toContain("s3cr3t-value");
    }
  });
});

describe("classifyIp", () => {
  it.each([
    ["93.184.216.34", false, "allowed 93.184.216.34"],
    ["2606:4700:4700::1111", false, "allowed 2606:4700:4700::1111"],
    ["2606:4700:0000:0000:0000:0000:0000:1111", false, "allowed 2606:4700::1111"],
    ["[2001:4860:4860::8888]", false, "allowed 2001:4860:4860::8888"],
    ["127.0.0.1", false, `127.0.0.1 is ${LOOPBACK}`],
    ["127.0.0.1", true, "allowed 127.0.0.1"],
    ["::1", false, `::1 is ${LOOPBACK}`],
    ["[::1]", true, "allowed ::1"],
    ["10.0.0.1", true, "10.0.0.1 is a private address"],
    ["169.254.169.254", false, "169.254.169.254 is a link-local (cloud metadata) address"],
    ["::ffff:127.0.0.1", true, "::ffff:7f00:1 is an IPv4-mapped address (it embeds 127.0.0.1)"],
    ["::127.0.0.1", true, "::7f00:1 is an IPv4-compatible address (it embeds 127.0.0.1)"],
    ["64:ff9b::169.254.169.254", false, "64:ff9b::a9fe:a9fe is a NAT64 address (it embeds 169.254.169.254)"],
    ["fd12:3456::1", false, "fd12:3456::1 is a unique local (private) address"],
    ["0x7f.1", true, '"0x7f.1" is not an IP address'],
    ["2130706433", true, '"2130706433" is not an IP address'],
    ["010.0.0.1", true, '"010.0.0.1" is not an IP address'],
    ["fe80::1%eth0", true, '"fe80::1%eth0" is not an IP address'],
    ["example.com", false, '"example.com" is not an IP address'],
  ] as const)("%s (allowLocal %s) -> %s", (ip, allowLocal, expected) => {
    expect(ipVerdict(ip, allowLocal)).toBe(expected);
  });
});

describe("seal", () => {
  it("round-trips, uses a fresh IV, and fails with another key", async () => {
    const key = "k".repeat(32);
    const a = await seal("Bearer secret", key);
    const b = await seal("Bearer secret", key);
    expect(a).not.toBe(b);
    expect(a).not.toContain("secret");
    expect(await unseal(a, key)).toBe("Bearer secret");
    await expect(unseal(a, "x".repeat(32))).rejects.toThrow();
  });
});
