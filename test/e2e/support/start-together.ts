/**
 * Starts several servers at once. If any fails to start, the ones that did start are stopped
 * before the error is thrown, so no `wrangler dev` or downstream server outlives the test run.
 */
export interface Stoppable {
  stop: () => Promise<void>;
}

export async function startTogether<const T extends readonly Promise<Stoppable>[]>(
  starts: T,
): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const settled = await Promise.allSettled(starts);
  const failure = settled.find((result) => result.status === "rejected");
  if (failure) {
    await Promise.allSettled(
      settled.map((result) => (result.status === "fulfilled" ? result.value.stop() : undefined)),
    );
    throw failure.reason;
  }
  return settled.map((result) => (result.status === "fulfilled" ? result.value : undefined)) as {
    -readonly [K in keyof T]: Awaited<T[K]>;
  };
}

/** Closes clients and stops servers, each attempted even when another fails. */
export async function closeAll(
  clients: readonly ({ close: () => Promise<void> } | undefined)[],
  servers: readonly (Stoppable | undefined)[],
): Promise<void> {
  await Promise.allSettled(clients.map((client) => client?.close()));
  await Promise.allSettled(servers.map((server) => server?.stop()));
}
