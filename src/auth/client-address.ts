/**
 * @module The client address a login attempt is counted under.
 *
 * On Cloudflare, `CF-Connecting-IP` is set by the edge and cannot be chosen by the client. An
 * IPv6 client is counted by its /64: one subscriber usually holds a whole /64, so counting single
 * IPv6 addresses would give an attacker 2^64 fresh counters. Without the header (local
 * development, the tests' in-process requests) every attempt shares one key, `local`.
 */

export const LOCAL_ADDRESS = "local";

/** The 16-bit groups of one side of `::`, or null when one is not hexadecimal. */
function hexGroups(part: string): number[] | null {
  if (part === "") return [];
  const groups = part.split(":");
  if (groups.some((group) => !/^[0-9a-f]{1,4}$/.test(group))) return null;
  return groups.map((group) => Number.parseInt(group, 16));
}

/** The eight 16-bit groups of an IPv6 address, or null when it is not one. */
function ipv6Groups(text: string): number[] | null {
  // A dotted IPv4 tail (::ffff:192.0.2.1) is two groups written differently.
  const dotted = /^(.*:)(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  let address = text;
  if (dotted) {
    const [a = 0, b = 0, c = 0, d = 0] = dotted.slice(2).map(Number);
    if ([a, b, c, d].some((octet) => octet > 255)) return null;
    address = `${dotted[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = address.split("::");
  if (halves.length > 2) return null;
  const head = hexGroups(halves[0] ?? "");
  const tail = halves.length === 2 ? hexGroups(halves[1] ?? "") : [];
  if (!head || !tail) return null;
  const explicit = head.length + tail.length;
  if (halves.length === 1 ? explicit !== 8 : explicit > 7) return null;
  return [...head, ...Array.from({ length: 8 - explicit }, () => 0), ...tail];
}

/** The throttle key of a client address (`203.0.113.7`, `2001:db8:1:2::/64`, `local`). */
export function clientAddressKey(request: Request): string {
  const raw = request.headers.get("CF-Connecting-IP")?.trim().toLowerCase();
  if (!raw) return LOCAL_ADDRESS;
  if (!raw.includes(":")) return raw.slice(0, 64);
  const groups = ipv6Groups(raw.replace(/^\[|\]$/g, "").replace(/%.*$/, ""));
  if (!groups) return raw.slice(0, 64);
  // An IPv4-mapped address (::ffff:a.b.c.d) is the IPv4 client it names.
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff) {
    const [hi = 0, lo = 0] = groups.slice(6);
    return [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff].join(".");
  }
  return `${groups
    .slice(0, 4)
    .map((group) => group.toString(16))
    .join(":")}::/64`;
}
