import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api.js';
import { subscribe, type LiveEvent } from './live.js';

export interface Loaded<T> {
  data: T | null;
  error: ApiError | Error | null;
  loading: boolean;
  reload: () => void;
}

/**
 * Loads `fetcher()` now, when `deps` change, and when a live event `matches` (coalesced: at most once
 * per 500 ms). Keeps the previous data while re-fetching, so the page does not flicker.
 */
export function useLoad<T>(
  fetcher: () => Promise<T>,
  deps: unknown[],
  live?: (event: LiveEvent) => boolean,
): Loaded<T> {
  const [state, setState] = useState<{ data: T | null; error: Error | null; loading: boolean }>({
    data: null,
    error: null,
    loading: true,
  });
  const fetcherRef = useRef(fetcher);
  fetcherRef.current = fetcher;
  const seq = useRef(0);
  const reload = useCallback(() => {
    const mine = ++seq.current;
    setState((s) => ({ ...s, loading: true }));
    fetcherRef.current().then(
      (data) => mine === seq.current && setState({ data, error: null, loading: false }),
      (error: Error) => mine === seq.current && setState((s) => ({ ...s, error, loading: false })),
    );
  }, []);
  useEffect(reload, deps);
  const liveRef = useRef(live);
  liveRef.current = live;
  useEffect(() => {
    if (!live) return;
    return subscribe((e) => liveRef.current?.(e) ?? false, reload);
  }, [reload, live === undefined]);
  return { ...state, reload };
}

/** Runs an action, keeping its error (shown with the hub's message) and a busy flag. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const run = useCallback(async <T>(action: () => Promise<T>): Promise<T | undefined> => {
    setBusy(true);
    setError(null);
    try {
      return await action();
    } catch (e) {
      setError(e as Error);
      return undefined;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, run, setError };
}
