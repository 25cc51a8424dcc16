#!/usr/bin/env node
// Makes sure Debian's Chromium is installed for the browser login in the client and conformance
// tests (`npx playwright install` cannot download browsers here). Installs it with apt-get when
// missing and running as root; otherwise says exactly what to do. CHROMIUM_PATH overrides the path.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";

const path = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
if (existsSync(path)) process.exit(0);
if (process.env.CHROMIUM_PATH) {
  console.error(`CHROMIUM_PATH=${path} does not exist.`);
  process.exit(1);
}
if (process.getuid?.() !== 0 || !existsSync("/usr/bin/apt-get")) {
  console.error("Chromium is needed for the browser login in the tests: run `sudo apt-get install chromium`");
  console.error("(or set CHROMIUM_PATH to a Chromium or Chrome binary).");
  process.exit(1);
}
console.log("Installing Debian's chromium for the browser-login tests (once per machine)...");
const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
execFileSync("apt-get", ["install", "-y", "-qq", "chromium"], { stdio: "inherit", env });
