// An API error as a message: the problem's detail and the fields it names.
import { ApiError } from "../api/client";

export function ErrorMessage({ error }: { error: unknown }) {
  if (!error) return null;
  const text = error instanceof Error ? error.message : String(error);
  const errors = error instanceof ApiError && Array.isArray(error.problem.errors) ? error.problem.errors : [];
  return (
    <div className="notice notice-error" role="alert">
      <span>{text}</span>
      {errors.length > 0 && (
        <ul className="problem-errors">
          {errors.map((item, i) => (
            <li key={i}>{describe(item)}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

function describe(item: unknown): string {
  if (item && typeof item === "object") {
    const { path, pointer, message, detail } = item as Record<string, unknown>;
    const where = path ?? pointer;
    return `${where ? `${String(where)}: ` : ""}${String(message ?? detail ?? JSON.stringify(item))}`;
  }
  return String(item);
}
