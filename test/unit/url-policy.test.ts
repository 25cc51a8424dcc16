import { describe, expect, it } from "vitest";
import { checkDownstreamUrl } from "../../src/downstream/url-policy";
import { seal, unseal } from "../../src/downstream/seal";

function refused(url: string, allowLocal = false): string {
  const verdict = checkDownstreamUrl(url, allowLocal);
  return verdict.ok ? "allowed" : verdict.reason;
}

describe("checkDownstreamUrl", () => {
  it("allows public https", () => {
    expect(refused("https://mcp.linear.app/mcp")).toBe("allowed");
  });

  it("refuses http, loopback, private ranges and metadata in production", () => {
    expect(refused("http://example.com/mcp")).toBe("downstream servers must use https");
    expect(refused("https://127.0.0.1/mcp")).toBe("127.0.0.1 is a loopback address");
    expect(refused("https://localhost/mcp")).toBe("localhost is a loopback address");
    expect(refused("https://10.1.2.3/mcp")).toBe("10.1.2.3 is a private address");
    expect(refused("https://192.168.0.1/mcp")).toBe("192.168.0.1 is a private address");
    expect(refused("https://172.20.0.1/mcp")).toBe("172.20.0.1 is a private address");
    expect(refused("https://169.254.169.254/latest")).toBe(
      "169.254.169.254 is a link-local (cloud metadata) address",
    );
    expect(refused("https://100.64.0.1/")).toBe("100.64.0.1 is a carrier-grade NAT address");
    expect(refused("https://metadata.google.internal/")).toBe(
      "metadata.google.internal is an internal metadata host",
    );
    expect(refused("https://[fd00::1]/")).toBe("[fd00::1] is a private or link-local IPv6 address");
    expect(refused("file:///etc/passwd")).toBe("only http(s) URLs can be MCP servers, not file:");
    expect(refused("https://user:pw@example.com/")).toBe("put credentials in headers, not in the URL");
    expect(refused("not a url")).toBe('"not a url" is not a URL');
  });

  it("allows loopback http when local downstreams are allowed, never private ranges", () => {
    expect(refused("http://127.0.0.1:3001/mcp", true)).toBe("allowed");
    expect(refused("http://10.0.0.1/mcp", true)).toBe("10.0.0.1 is a private address");
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
