// The typed API client. Its types come from the service's OpenAPI document
// (`npm run gen:api` writes schema.d.ts), never written by hand.
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema";

export type Schemas = components["schemas"];
export type Problem = { title?: string; detail?: string; status?: number; errors?: unknown[] };

const TOKEN_KEY = "flowengine.token";

export function getToken(): string | null {
  return localStorage.getItem(TOKEN_KEY);
}

export function setToken(token: string | null): void {
  if (token) localStorage.setItem(TOKEN_KEY, token);
  else localStorage.removeItem(TOKEN_KEY);
}

/** An API answer that was not 2xx, with the problem+json it carried. */
export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem;
  constructor(status: number, problem: Problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

const listeners = new Set<() => void>();
/** Called when the API answers 401: the session is gone. */
export function onUnauthorized(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

const auth: Middleware = {
  onRequest({ request }) {
    const token = getToken();
    if (token) request.headers.set("Authorization", `Bearer ${token}`);
    return request;
  },
  onResponse({ response }) {
    if (response.status === 401) listeners.forEach((fn) => fn());
    return response;
  },
};

export const api = createClient<paths>({ baseUrl: "" });
api.use(auth);

/** The data of an openapi-fetch answer, or an ApiError. */
export async function unwrap<T>(
  pending: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  let answer: { data?: T; error?: unknown; response: Response };
  try {
    answer = await pending;
  } catch (err) {
    throw new ApiError(0, { title: "network error", detail: String(err) });
  }
  if (answer.response.ok) return answer.data as T;
  const problem =
    answer.error && typeof answer.error === "object"
      ? (answer.error as Problem)
      : { title: answer.response.statusText, detail: String(answer.error ?? "") };
  throw new ApiError(answer.response.status, problem);
}

/** The ws:// address of an API WebSocket, with the session token. */
export function wsUrl(path: string): string {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  const sep = path.includes("?") ? "&" : "?";
  return `${proto}//${location.host}${path}${sep}token=${encodeURIComponent(getToken() ?? "")}`;
}

/** Fetches a file (CSV, WAV) with the session token and saves it. */
export async function download(path: string, filename: string): Promise<void> {
  const response = await fetch(path, { headers: { Authorization: `Bearer ${getToken() ?? ""}` } });
  if (!response.ok) {
    const problem = (await response.json().catch(() => ({}))) as Problem;
    throw new ApiError(response.status, problem);
  }
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  link.click();
  URL.revokeObjectURL(url);
}
