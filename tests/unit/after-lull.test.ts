import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest'
import { afterLull } from '../../scripts/after-lull.ts'

describe('afterLull', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  test('runs once arrivals have paused for the quiet time, once for the whole burst', () => {
    const run = vi.fn()
    const lull = afterLull(run, { quietMs: 50, maxWaitMs: 1_000 })
    for (let i = 0; i < 5; i++) {
      lull.arrived()
      vi.advanceTimersByTime(30)
    }
    // The last arrival was 30 ms ago: still inside the quiet time.
    expect(run).not.toHaveBeenCalled()
    vi.advanceTimersByTime(19)
    expect(run).not.toHaveBeenCalled()
    vi.advanceTimersByTime(1)
    expect(run).toHaveBeenCalledTimes(1)
    vi.advanceTimersByTime(5_000)
    expect(run).toHaveBeenCalledTimes(1)
  })

  test('a stream that never pauses is still served every maxWaitMs', () => {
    const run = vi.fn()
    const lull = afterLull(run, { quietMs: 50, maxWaitMs: 1_000 })
    const times: number[] = []
    run.mockImplementation(() => times.push(Date.now()))
    const start = Date.now()
    for (let t = 0; t < 2_500; t += 10) {
      lull.arrived()
      vi.advanceTimersByTime(10)
    }
    expect(times.map((t) => t - start)).toEqual([1_000, 2_000])
  })

  test('a lone arrival runs after the quiet time; cancel drops a pending run', () => {
    const run = vi.fn()
    const lull = afterLull(run, { quietMs: 50, maxWaitMs: 1_000 })
    lull.arrived()
    vi.advanceTimersByTime(50)
    expect(run).toHaveBeenCalledTimes(1)
    lull.arrived()
    lull.cancel()
    vi.advanceTimersByTime(2_000)
    expect(run).toHaveBeenCalledTimes(1)
  })
})
