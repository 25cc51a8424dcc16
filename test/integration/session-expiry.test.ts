import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { resolveSession, sessionStub } from "../../src/session/session-stub";

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
    await stub.stateSet("u_exp", "k", '"v"');
    // The alarm is due in 1 ms; it may already have fired by itself, or fire now.
    await new Promise((resolve) => setTimeout(resolve, 20));
    await runDurableObjectAlarm(stub);
    await expect(stub.touch("u_exp")).resolves.toEqual({ found: false });
    await expect(resolveSession(env, "u_exp", handle, 60_000)).rejects.toMatchObject({
      code: "session_not_found",
    });
    // Reopening under the same name starts empty.
    await stub.open("u_exp", handle, 60_000);
    await expect(stub.stateKeys("u_exp")).resolves.toEqual([]);
  });

  it("opens the default session on first use and recreates it after expiry", async () => {
    const first = await resolveSession(env, "u_default", undefined, 1);
    expect(first.handle).toBe("default");
    await new Promise((resolve) => setTimeout(resolve, 20));
    await runDurableObjectAlarm(sessionStub(env, "u_default", "default"));
    await expect(sessionStub(env, "u_default", "default").touch("u_default")).resolves.toEqual({
      found: false,
    });
    const again = await resolveSession(env, "u_default", undefined, 60_000);
    expect(again.handle).toBe("default");
    expect(again.createdAt).toBeGreaterThan(first.createdAt - 1);
  });
});
