import { useState, type FormEvent } from "react";
import { useStrings } from "../i18n";
import { ErrorMessage } from "./ErrorMessage";
import { useSession } from "./session";
import { SHELL } from "./strings";

export function Login() {
  const t = useStrings(SHELL);
  const { login } = useSession();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await login(username, password);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="login" onSubmit={submit}>
      <h1>{t("login")}</h1>
      <label>
        {t("username")}
        <input name="username" autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)} required />
      </label>
      <label>
        {t("password")}
        <input name="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required />
      </label>
      <ErrorMessage error={error} />
      <button type="submit" disabled={busy}>{t("signIn")}</button>
    </form>
  );
}
