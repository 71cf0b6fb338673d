// The state of one request: data, error and whether it is under way. A newer
// request replaces an older one's answer (filters changed meanwhile).
import { useEffect, useState } from "react";

export type Async<T> = { data: T | null; error: unknown; loading: boolean };

export function useAsync<T>(run: (() => Promise<T>) | null, key: string): Async<T> {
  const [state, setState] = useState<Async<T>>({ data: null, error: null, loading: run !== null });
  useEffect(() => {
    if (!run) {
      setState({ data: null, error: null, loading: false });
      return;
    }
    let current = true;
    setState((s) => ({ ...s, error: null, loading: true }));
    run().then(
      (data) => current && setState({ data, error: null, loading: false }),
      (error: unknown) => current && setState({ data: null, error, loading: false }),
    );
    return () => {
      current = false;
    };
    // `key` stands for everything `run` depends on
  }, [key]);
  return state;
}

/** Runs `jobs` with at most `limit` at once, results in order. */
export async function pooled<T>(jobs: (() => Promise<T>)[], limit = 4): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  async function worker() {
    while (next < jobs.length) {
      const i = next++;
      out[i] = await jobs[i]();
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  return out;
}
