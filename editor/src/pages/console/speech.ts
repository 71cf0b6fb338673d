// Prompts as audio, when the service can speak them: GET /api/v1/media/speech
// is used only if the OpenAPI document lists it (it needs TTS installed).
import { getToken } from "../../api/client";

const SPEECH = "/api/v1/media/speech";
let offered: Promise<boolean> | null = null;

export function speechOffered(): Promise<boolean> {
  offered ??= fetch("/openapi.json")
    .then((r) => (r.ok ? r.json() : {}))
    .then((doc: { paths?: Record<string, unknown> }) => Boolean(doc.paths && SPEECH in doc.paths))
    .catch(() => false);
  return offered;
}

/** Plays `text` in `lang`; resolves when it has started (errors are the caller's to show). */
export async function speak(text: string, lang: string | undefined): Promise<HTMLAudioElement> {
  const query = new URLSearchParams({ text, lang: lang || "ru" });
  const response = await fetch(`${SPEECH}?${query}`, { headers: { Authorization: `Bearer ${getToken() ?? ""}` } });
  if (!response.ok) throw new Error(`speech: HTTP ${response.status}`);
  const url = URL.createObjectURL(await response.blob());
  const audio = new Audio(url);
  audio.onended = () => URL.revokeObjectURL(url);
  await audio.play();
  return audio;
}
