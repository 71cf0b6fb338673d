// Who is signed in: the session token (kept in localStorage) and /auth/me.
import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from "react";
import { api, getToken, onUnauthorized, setToken, unwrap, type Schemas } from "../api/client";

export type Me = Schemas["MePublic"];
type SessionState = {
  me: Me | null;
  loading: boolean;
  login: (username: string, password: string) => Promise<void>;
  logout: () => Promise<void>;
};

const SessionContext = createContext<SessionState | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [me, setMe] = useState<Me | null>(null);
  const [loading, setLoading] = useState(() => getToken() !== null);

  const loadMe = useCallback(async () => {
    try {
      setMe(await unwrap(api.GET("/api/v1/auth/me")));
    } catch {
      setToken(null);
      setMe(null);
    } finally {
      setLoading(false);
    }
  }, []);

  useEffect(() => {
    if (getToken()) void loadMe();
    return onUnauthorized(() => {
      setToken(null);
      setMe(null);
    });
  }, [loadMe]);

  const login = useCallback(
    async (username: string, password: string) => {
      const session = await unwrap(api.POST("/api/v1/auth/login", { body: { username, password } }));
      setToken(session.token);
      await loadMe();
    },
    [loadMe],
  );

  const logout = useCallback(async () => {
    await api.POST("/api/v1/auth/logout").catch(() => undefined);
    setToken(null);
    setMe(null);
  }, []);

  return (
    <SessionContext.Provider value={{ me, loading, login, logout }}>{children}</SessionContext.Provider>
  );
}

export function useSession(): SessionState {
  const state = useContext(SessionContext);
  if (!state) throw new Error("useSession outside SessionProvider");
  return state;
}

const RANK = { operator: 0, supervisor: 1, admin: 2 } as const;
export function atLeast(me: Me | null, role: keyof typeof RANK): boolean {
  return me !== null && RANK[me.role] >= RANK[role];
}
