/**
 * The login throttle, end to end through the Worker: failed logins counted per client address
 * (`CF-Connecting-IP`) and per account across fresh authorization requests, the 429 with
 * `Retry-After` while locked (even for the right password), the back-off, and the reset.
 *
 * Time is the throttle objects' injectable clock, fixed at T0 and moved past a lock by the test,
 * so nothing waits for real seconds and every message is exact.
 */
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { clientAddressKey } from "../../src/auth/client-address";
import { formatWait, throttleStub, type ThrottleKey } from "../../src/auth/login-gate";
import type { LoginThrottle } from "../../src/auth/login-throttle";
import { EMPTY_RECORD, THROTTLE_POLICIES } from "../../src/auth/throttle-policy";
import { openLogin, postForm, registerClient, type LoginOptions } from "../support/oauth-login";

const ORIGIN = "http://127.0.0.1:8787";
const PASSWORD = "test-password";
/** 2030-01-01T12:00:00Z: the throttle clock's start in every test. */
const T0 = Date.UTC(2030, 0, 1, 12, 0, 0);
const SECOND = 1000;

const USER: ThrottleKey = { kind: "user", name: "user:local:admin" };
const address = (ip: string): ThrottleKey => ({ kind: "address", name: `address:${ip}` });

const optionsFrom = (ip: string): LoginOptions => ({
  origin: ORIGIN,
  fetch: (request) => exports.default.fetch(request),
  password: PASSWORD,
  headers: { "CF-Connecting-IP": ip },
});

/** Sets the clock of the account's throttle and of each address's throttle. */
async function setClock(time: number, ips: string[]): Promise<void> {
  for (const key of [USER, ...ips.map(address)]) {
    await runInDurableObject(throttleStub(env, key), (instance: LoginThrottle) => {
      instance.now = () => time;
    });
  }
}

function inspect(key: ThrottleKey) {
  return throttleStub(env, key).inspect();
}

/** A fresh authorization request from `ip`, at its login form. */
async function loginTransaction(ip: string, clientId?: string) {
  const options = optionsFrom(ip);
  const step = await openLogin(options, clientId);
  const fields = { transaction: step.transaction, csrf: step.csrf };
  return {
    submit: (password: string) => postForm(options, "/login", { ...fields, password }, step.cookie),
  };
}

/** One login attempt on a fresh authorization request from `ip`. */
async function attempt(ip: string, password: string, clientId?: string): Promise<Response> {
  return (await loginTransaction(ip, clientId)).submit(password);
}

async function expectLockedOut(response: Response, message: string, retryAfter: number): Promise<void> {
  expect(response.status).toBe(429);
  expect(response.headers.get("Retry-After")).toBe(String(retryAfter));
  const html = await response.text();
  expect(html).toContain(`<h1>Too many attempts</h1><p class="error">${message}</p>`);
}

const addressMessage = (wait: string, until: string) =>
  `Too many failed logins from your network address. Try again in ${wait} (after ${until} UTC).`;
const accountMessage = (wait: string, until: string) =>
  `Too many failed logins for this account. Try again in ${wait} (after ${until} UTC).`;

let clientId: string;
beforeEach(async () => {
  // Storage is shared by the tests of a file: each test uses its own addresses, and the one
  // account starts every test unthrottled.
  await throttleStub(env, USER).clear();
  clientId = await registerClient(optionsFrom("192.0.2.1"));
});

describe("the per-address throttle", () => {
  it("locks an address after 5 failures over fresh authorization requests, refuses even the right password, and opens again after 30 s", async () => {
    const ip = "203.0.113.10";
    await setClock(T0, [ip]);
    for (let guess = 1; guess <= 4; guess++) {
      const response = await attempt(ip, `wrong-${guess}`, clientId);
      expect(response.status).toBe(401);
      expect(await response.text()).toContain("That password is not correct.");
    }
    await expectLockedOut(
      await attempt(ip, "wrong-5", clientId),
      addressMessage("30 seconds", "12:00:30"),
      30,
    );

    // Locked: the right password is refused without being checked, and refusing does not count.
    await expectLockedOut(
      await attempt(ip, PASSWORD, clientId),
      addressMessage("30 seconds", "12:00:30"),
      30,
    );
    await setClock(T0 + 20 * SECOND, [ip]);
    await expectLockedOut(
      await attempt(ip, PASSWORD, clientId),
      addressMessage("10 seconds", "12:00:30"),
      10,
    );
    expect(await inspect(address(ip))).toEqual({
      failures: 5,
      lastFailureAt: T0,
      lockedUntil: T0 + 30 * SECOND,
    });

    await setClock(T0 + 30 * SECOND, [ip]);
    const success = await attempt(ip, PASSWORD, clientId);
    expect(success.status).toBe(303);
    expect(success.headers.get("Location")).toBe("/consent");
    // A login clears its address; the account keeps its five failures.
    expect(await inspect(address(ip))).toEqual(EMPTY_RECORD);
    expect((await inspect(USER)).failures).toBe(5);
    expect((await attempt(ip, "wrong-6", clientId)).status).toBe(401);
  });

  it("doubles the lock for each failure after the fifth", async () => {
    const ip = "203.0.113.11";
    await setClock(T0, [ip]);
    for (let guess = 1; guess <= 4; guess++) expect((await attempt(ip, "wrong", clientId)).status).toBe(401);
    await expectLockedOut(await attempt(ip, "wrong", clientId), addressMessage("30 seconds", "12:00:30"), 30);
    await setClock(T0 + 30 * SECOND, [ip]);
    await expectLockedOut(await attempt(ip, "wrong", clientId), addressMessage("1 minute", "12:01:30"), 60);
    await setClock(T0 + 90 * SECOND, [ip]);
    await expectLockedOut(await attempt(ip, "wrong", clientId), addressMessage("2 minutes", "12:03:30"), 120);
  });

  it("counts two client addresses separately", async () => {
    const [locked, other] = ["203.0.113.12", "203.0.113.13"];
    await setClock(T0, [locked, other]);
    for (let guess = 1; guess <= 5; guess++) await attempt(locked, "wrong", clientId);
    expect((await attempt(locked, PASSWORD, clientId)).status).toBe(429);

    const guess = await attempt(other, "wrong", clientId);
    expect(guess.status).toBe(401);
    expect(await inspect(address(other))).toMatchObject({ failures: 1, lockedUntil: 0 });
    expect((await attempt(other, PASSWORD, clientId)).status).toBe(303);
    expect((await attempt(locked, PASSWORD, clientId)).status).toBe(429);
  });

  it("counts IPv6 clients by their /64", async () => {
    const [first, sibling] = ["2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff"];
    await setClock(T0, ["2001:db8:1:2::/64"]);
    for (let guess = 1; guess <= 4; guess++) await attempt(first, "wrong", clientId);
    await expectLockedOut(
      await attempt(sibling, "wrong", clientId),
      addressMessage("30 seconds", "12:00:30"),
      30,
    );
  });

  it("refuses concurrent guesses past the limit: exactly four are checked, then the fifth locks", async () => {
    const ip = "203.0.113.14";
    await setClock(T0, [ip]);
    const transactions = [];
    for (let index = 0; index < 8; index++) transactions.push(await loginTransaction(ip, clientId));
    const responses = await Promise.all(transactions.map((transaction) => transaction.submit("wrong")));
    const statuses = responses.map((response) => response.status).toSorted();
    expect(statuses).toEqual([401, 401, 401, 401, 429, 429, 429, 429]);
    expect(await inspect(address(ip))).toMatchObject({ failures: 5, lockedUntil: T0 + 30 * SECOND });
  });

  it("keeps the lock when the object is evicted (durable, not in memory)", async () => {
    const ip = "203.0.113.15";
    // The real clock: an evicted object comes back with it.
    for (let guess = 1; guess <= 5; guess++) await attempt(ip, "wrong", clientId);
    await evictDurableObject(throttleStub(env, address(ip)));
    const response = await attempt(ip, PASSWORD, clientId);
    expect(response.status).toBe(429);
    const retryAfter = Number(response.headers.get("Retry-After"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(30);
    expect(await response.text()).toContain("Too many failed logins from your network address.");
  });
});

describe("the per-account throttle", () => {
  it("locks the account after 20 failures spread over addresses that each stay under their limit", async () => {
    const ips = ["198.51.100.20", "198.51.100.21", "198.51.100.22", "198.51.100.23", "198.51.100.24"];
    const fresh = "198.51.100.25";
    await setClock(T0, [...ips, fresh]);
    let failures = 0;
    for (const ip of ips) {
      for (let guess = 1; guess <= 4; guess++) {
        failures++;
        const response = await attempt(ip, "wrong", clientId);
        if (failures < 20) expect(response.status).toBe(401);
        else await expectLockedOut(response, accountMessage("30 seconds", "12:00:30"), 30);
      }
    }
    for (const ip of ips) expect(await inspect(address(ip))).toMatchObject({ failures: 4, lockedUntil: 0 });

    // Any address, even one that never failed, with the right password: refused.
    await expectLockedOut(
      await attempt(fresh, PASSWORD, clientId),
      accountMessage("30 seconds", "12:00:30"),
      30,
    );

    await setClock(T0 + 30 * SECOND, [...ips, fresh]);
    expect((await attempt(fresh, PASSWORD, clientId)).status).toBe(303);
    // The owner's login takes back only its own attempt: the next failure locks for 1 minute.
    expect(await inspect(USER)).toMatchObject({ failures: 20 });
    await expectLockedOut(
      await attempt(fresh, "wrong", clientId),
      accountMessage("1 minute", "12:01:30"),
      60,
    );
  });
});

describe("what is and is not counted", () => {
  it("does not count a form without a password", async () => {
    const ip = "203.0.113.16";
    await setClock(T0, [ip]);
    const response = await attempt(ip, "", clientId);
    expect(response.status).toBe(400);
    expect(await response.text()).toContain("Enter the admin password.");
    expect(await inspect(address(ip))).toEqual(EMPTY_RECORD);
    expect(await inspect(USER)).toEqual(EMPTY_RECORD);
  });

  it("keeps the per-transaction limit of 5 even when the address has been cleared", async () => {
    const ip = "203.0.113.17";
    await setClock(T0, [ip]);
    const transaction = await loginTransaction(ip, clientId);
    for (let guess = 1; guess <= 4; guess++) expect((await transaction.submit("wrong")).status).toBe(401);
    // A login in another transaction clears the address counter...
    expect((await attempt(ip, PASSWORD, clientId)).status).toBe(303);
    // ...but this transaction has had its five.
    const fifth = await transaction.submit("wrong");
    expect(fifth.status).toBe(429);
    expect(fifth.headers.get("Retry-After")).toBeNull();
    expect(await fifth.text()).toContain("5 failed logins: start the connection from your MCP client again.");
    expect((await transaction.submit(PASSWORD)).status).toBe(400);
  });

  it("tells the person to start again when the lock also ends the transaction", async () => {
    const ip = "203.0.113.18";
    await setClock(T0, [ip]);
    const transaction = await loginTransaction(ip, clientId);
    for (let guess = 1; guess <= 4; guess++) await transaction.submit("wrong");
    await expectLockedOut(
      await transaction.submit("wrong"),
      `${addressMessage("30 seconds", "12:00:30")} Then start the connection from your MCP client again.`,
      30,
    );
  });
});

describe("the throttle object", () => {
  it("backs off 30 s, doubling, capped at 15 minutes, and forgets a key an hour after its last lock", async () => {
    const key = address("test-backoff");
    const stub = throttleStub(env, key);
    let now = T0;
    await runInDurableObject(stub, (instance: LoginThrottle) => {
      instance.now = () => now;
    });
    for (let failure = 1; failure <= 4; failure++) {
      expect(await stub.attempt("address")).toMatchObject({ allowed: true, ticket: { setLockUntil: null } });
    }
    const locks: number[] = [];
    for (let failure = 5; failure <= 12; failure++) {
      const result = await stub.attempt("address");
      if (!result.allowed || result.ticket.setLockUntil === null)
        throw new Error(`failure ${failure} set no lock`);
      locks.push((result.ticket.setLockUntil - now) / SECOND);
      expect(await stub.attempt("address")).toEqual({
        allowed: false,
        lockedUntil: result.ticket.setLockUntil,
        now,
      });
      now = result.ticket.setLockUntil;
    }
    expect(locks).toEqual([30, 60, 120, 240, 480, 900, 900, 900]);
    expect(THROTTLE_POLICIES.address.maxLockMs).toBe(900 * SECOND);

    now += 60 * 60 * SECOND - 1;
    expect((await stub.inspect()).failures).toBe(12);
    now += 1;
    expect(await stub.inspect()).toEqual(EMPTY_RECORD);
    expect(await stub.attempt("address")).toMatchObject({ allowed: true, ticket: { setLockUntil: null } });
  });

  it("takes back an attempt and the lock it set, but not a lock set after it", async () => {
    const stub = throttleStub(env, address("test-take-back"));
    await runInDurableObject(stub, (instance: LoginThrottle) => {
      instance.now = () => T0;
    });
    for (let failure = 1; failure <= 4; failure++) await stub.attempt("address");
    const fifth = await stub.attempt("address");
    if (!fifth.allowed) throw new Error("the fifth attempt was refused");
    expect(fifth.ticket).toEqual({ setLockUntil: T0 + 30 * SECOND, previousLockedUntil: 0 });
    await stub.takeBack("address", fifth.ticket);
    expect(await stub.inspect()).toEqual({ failures: 4, lastFailureAt: T0, lockedUntil: 0 });
  });
});

const addressKeyOf = (ip?: string) =>
  clientAddressKey(new Request(ORIGIN, { headers: ip === undefined ? {} : { "CF-Connecting-IP": ip } }));

describe("client address keys", () => {
  it("uses CF-Connecting-IP, one shared key without it, and an IPv6 client's /64", () => {
    expect(addressKeyOf()).toBe("local");
    expect(addressKeyOf("")).toBe("local");
    expect(addressKeyOf("203.0.113.7")).toBe("203.0.113.7");
    expect(addressKeyOf("2001:db8:1:2::1")).toBe("2001:db8:1:2::/64");
    expect(addressKeyOf("2001:0DB8:0001:0002:aaaa:bbbb:cccc:dddd")).toBe("2001:db8:1:2::/64");
    expect(addressKeyOf("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(addressKeyOf("::1")).toBe("0:0:0:0::/64");
    expect(addressKeyOf("::ffff:192.0.2.1")).toBe("192.0.2.1");
    expect(addressKeyOf("64:ff9b::192.0.2.1")).toBe("64:ff9b:0:0::/64");
    expect(addressKeyOf("not:an:address")).toBe("not:an:address");
  });

  it("words waits in seconds and minutes", () => {
    expect([1, 30, 59, 60, 61, 125, 900].map(formatWait)).toEqual([
      "1 second",
      "30 seconds",
      "59 seconds",
      "1 minute",
      "1 minute 1 second",
      "2 minutes 5 seconds",
      "15 minutes",
    ]);
  });
});
