export default async function globalTeardown(): Promise<void> {
  await Promise.all((globalThis.__schedmeshServers ?? []).map((s) => s.stop()));
}
