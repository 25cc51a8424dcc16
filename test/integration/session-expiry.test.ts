import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sessionStub } from "../../src/session/session-stub";

const keyOf = (userId: string, handle: string, idleTtlMs = 60_000) => ({
  userId,
  handle,
  idleTtlMs,
  origin: "http://127.0.0.1:8787",
});

describe("idle expiry", () => {
  it("keeps a session whose alarm fires before its idle time is up", async () => {
    const stub = sessionStub(env, "u_exp", "s_AAAAAAAAAAAAAAAAAAAAA1");
    await stub.open("u_exp", "s_AAAAAAAAAAAAAAAAAAAAA1", 60_000);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    await expect(stub.touch("u_exp")).resolves.toMatchObject({ found: true });
  });

  it("erases a session, state included, once it has been idle past its TTL", async () => {
    const handle = "s_AAAAAAAAAAAAAAAAAAAAA2";
    const stub = sessionStub(env, "u_exp", handle);
    await stub.open("u_exp", handle, 1);
    const stored = await stub.execute(keyOf("u_exp", handle), {
      code: "await state.set('k', 'v')",
      timeoutMs: 1_000,
      allowedTools: null,
    });
    expect(stored).toMatchObject({ ok: true, value: { ok: true } });
    // The alarm is due in 1 ms; it may already have fired by itself, or fire now.
    await new Promise((resolve) => setTimeout(resolve, 20));
    await runDurableObjectAlarm(stub);
    await expect(stub.touch("u_exp")).resolves.toEqual({ found: false });
    await expect(stub.stateKeys(keyOf("u_exp", handle))).resolves.toMatchObject({
      ok: false,
      error: { code: "session_not_found" },
    });
    // Reopening under the same name starts empty.
    await stub.open("u_exp", handle, 60_000);
    await expect(stub.stateKeys(keyOf("u_exp", handle))).resolves.toEqual({ ok: true, value: [] });
  });

  it("opens the default session on first use and recreates it after expiry", async () => {
    const stub = sessionStub(env, "u_default", "default");
    await expect(stub.stateKeys(keyOf("u_default", "default", 1))).resolves.toEqual({ ok: true, value: [] });
    const first = await stub.touch("u_default");
    expect(first).toMatchObject({ found: true, session: { handle: "default" } });
    await new Promise((resolve) => setTimeout(resolve, 20));
    await runDurableObjectAlarm(stub);
    await expect(stub.touch("u_default")).resolves.toEqual({ found: false });
    await expect(stub.stateKeys(keyOf("u_default", "default"))).resolves.toEqual({ ok: true, value: [] });
    await expect(stub.touch("u_default")).resolves.toMatchObject({ found: true });
  });

  it("records use without writing on every call, and still expires by the last use", async () => {
    const handle = "s_AAAAAAAAAAAAAAAAAAAAA3";
    const stub = sessionStub(env, "u_exp", handle);
    const opened = await stub.open("u_exp", handle, 60_000);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const touched = await stub.touch("u_exp");
    expect(touched.found && touched.session.lastUsedAt).toBeGreaterThan(opened.lastUsedAt);
    // The alarm finds the session used recently and keeps it.
    await runDurableObjectAlarm(stub);
    await expect(stub.touch("u_exp")).resolves.toMatchObject({ found: true });
  });
});
