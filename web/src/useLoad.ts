// Loads data for a page: aborted when the page goes away or its inputs change.
import { useCallback, useEffect, useState } from 'react';

export type Load<T> = { state: 'loading' } | { state: 'done'; data: T } | { state: 'error'; error: unknown };

export function useLoad<T>(load: (signal: AbortSignal) => Promise<T>, key: string): [Load<T>, () => void] {
  const [result, setResult] = useState<{ key: string; load: Load<T> }>({ key, load: { state: 'loading' } });
  const [generation, setGeneration] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    load(controller.signal).then(
      (data) => {
        if (!controller.signal.aborted) setResult({ key, load: { state: 'done', data } });
      },
      (error: unknown) => {
        if (!controller.signal.aborted) setResult({ key, load: { state: 'error', error } });
      },
    );
    return () => controller.abort();
    // `load` is re-created on every render; `key` names what it loads.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, generation]);

  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  // A result for older inputs is not shown while the new ones load.
  return [result.key === key ? result.load : { state: 'loading' }, reload];
}
