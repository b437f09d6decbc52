/**
 * "None left", awaited with a bound: the clients or sockets a closing server ends. The owner
 * calls `check()` after each removal; `wait(timeout)` resolves once `count()` is 0, or after
 * `timeout` ms, and clears its timer either way.
 */
export class Emptied {
  readonly #count: () => number
  #resolve: (() => void) | null = null

  constructor(count: () => number) {
    this.#count = count
  }

  check(): void {
    if (this.#count() === 0) this.#resolve?.()
  }

  async wait(timeout: number): Promise<void> {
    if (this.#count() === 0) return
    let timer: ReturnType<typeof setTimeout> | undefined
    await new Promise<void>((resolve) => {
      this.#resolve = resolve
      timer = setTimeout(resolve, timeout)
    })
    clearTimeout(timer)
    this.#resolve = null
  }
}
