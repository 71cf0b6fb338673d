// The caller's hands: a keypad, a phrase to say, hang up.
import { useState, type FormEvent, type KeyboardEvent } from "react";
import { useStrings } from "../../i18n";
import { CONSOLE } from "./strings";

const KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"];

type Props = {
  live: boolean;
  onDigits: (digits: string) => void;
  onSay: (text: string) => void;
  onHangup: () => void;
};

export function CallControls({ live, onDigits, onSay, onHangup }: Props) {
  const t = useStrings(CONSOLE);
  const [phrase, setPhrase] = useState("");

  function typed(event: KeyboardEvent) {
    if (KEYS.includes(event.key) && live) {
      event.preventDefault();
      onDigits(event.key);
    }
  }
  function say(event: FormEvent) {
    event.preventDefault();
    if (!phrase.trim()) return;
    onSay(phrase.trim());
    setPhrase("");
  }

  return (
    <div className="call-controls">
      <div className="keypad" role="group" aria-label={t("keypad")} onKeyDown={typed}>
        {KEYS.map((k) => (
          <button key={k} type="button" disabled={!live} aria-label={t("key", { k })} onClick={() => onDigits(k)}>{k}</button>
        ))}
      </div>
      <form className="say-box" onSubmit={say}>
        <input aria-label={t("say")} placeholder={t("sayPlaceholder")} value={phrase} onChange={(e) => setPhrase(e.target.value)} disabled={!live} maxLength={1000} />
        <button type="submit" disabled={!live || !phrase.trim()}>{t("say")}</button>
      </form>
      <button type="button" className="hangup" disabled={!live} onClick={onHangup}>{t("hangup")}</button>
    </div>
  );
}
