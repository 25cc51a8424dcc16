import { exports } from "cloudflare:workers";
import { countTokens } from "gpt-tokenizer";
import { expect, it } from "vitest";
import { connectClient } from "../support/mcp-client";
import { login } from "../support/oauth-login";
const ORIGIN = "http://127.0.0.1:8787";
it("dumps", async () => {
  const tokens = await login({
    origin: ORIGIN,
    fetch: (r: Request) => exports.default.fetch(r),
    password: "test-password",
  });
  const client = await connectClient({
    url: `${ORIGIN}/mcp`,
    token: tokens.access_token,
    era: "2026-07-28",
    fetch: (i: string | URL | Request, init?: RequestInit) => {
      const r = new Request(i, init);
      r.headers.set("Host", new URL(r.url).host);
      return exports.default.fetch(r);
    },
  });
  const { tools } = await client.listTools();
  console.log("TOTAL", countTokens(JSON.stringify({ tools })));
  for (const t of tools) console.log("TOOL", t.name, countTokens(JSON.stringify(t)), JSON.stringify(t));
  expect(tools.length).toBeGreaterThan(0);
});
