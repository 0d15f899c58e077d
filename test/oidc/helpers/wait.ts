/** Waits until `check()` is true, polling every 10 ms; fails after 5 s. */
export async function eventuallyTrue(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const until = Date.now() + 5000;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
