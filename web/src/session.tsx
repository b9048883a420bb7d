// Who is logged in, from `GET /auth/me`. A 401 (or an API without the identity module yet) means
// logged out. The CSRF token it returns is handed to the API client, in memory only.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { onAccountContained, onSignedOut, setCsrfToken } from './api/client';
import { endpoints, type CurrentUser } from './api/endpoints';
import { forgetPrivateKey } from './e2e/keyring';

export type SessionState =
  | { status: 'loading' }
  | { status: 'anonymous' }
  | { status: 'authenticated'; user: CurrentUser };

interface SessionValue {
  session: SessionState;
  /** The guard contained this account: the application shows the contained screen. */
  contained: boolean;
  refresh(): Promise<SessionState>;
  logout(): Promise<void>;
  markContained(): void;
  clearContained(): void;
}

const SessionContext = createContext<SessionValue | undefined>(undefined);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<SessionState>({ status: 'loading' });
  const [contained, setContained] = useState(false);

  const refresh = useCallback(async (): Promise<SessionState> => {
    const next = await loadSession();
    setSession(next);
    return next;
  }, []);

  const logout = useCallback(async () => {
    try {
      await endpoints.logout();
    } catch {
      // Already logged out or the server is gone: forget the session locally all the same.
    }
    setCsrfToken(undefined);
    // The unlocked end-to-end private key goes with the session.
    forgetPrivateKey();
    setSession({ status: 'anonymous' });
  }, []);

  const markContained = useCallback(() => {
    setCsrfToken(undefined);
    setSession({ status: 'anonymous' });
    setContained(true);
  }, []);
  const clearContained = useCallback(() => setContained(false), []);

  useEffect(() => {
    let live = true;
    void loadSession().then((next) => {
      if (live) setSession(next);
    });
    const unsubscribe = [
      onAccountContained(markContained),
      // A page's request found the session gone: pages that need one offer the login again.
      onSignedOut(() => {
        setCsrfToken(undefined);
        setSession((current) => (current.status === 'authenticated' ? { status: 'anonymous' } : current));
      }),
    ];
    return () => {
      live = false;
      for (const u of unsubscribe) u();
    };
  }, [markContained]);

  const value = useMemo(
    () => ({ session, contained, refresh, logout, markContained, clearContained }),
    [session, contained, refresh, logout, markContained, clearContained],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

/** Asks the API who is logged in. A contained account is reported by the API client's broadcast. */
async function loadSession(): Promise<SessionState> {
  try {
    const me = await endpoints.me();
    setCsrfToken(me.csrfToken);
    return { status: 'authenticated', user: me.user };
  } catch {
    setCsrfToken(undefined);
    return { status: 'anonymous' };
  }
}

export function useSession(): SessionValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession outside SessionProvider');
  return value;
}

export function displayName(user: CurrentUser): string {
  return `${user.firstName} ${user.lastName}`.trim() || user.email;
}

export const isStaff = (user: CurrentUser): boolean => user.memberships.length > 0;
