// A node type's params JSON Schema made friendly for the generated form:
// "X or null" fields become plain X (left empty = not written), scalar
// unions become text, and defaults show as placeholders instead of being
// written into the document. No node type is named here.
type Json = Record<string, unknown>;

function isNull(s: unknown): boolean {
  return !!s && typeof s === "object" && (s as Json).type === "null";
}

const SCALARS = new Set(["string", "integer", "number", "boolean"]);

export function simplifySchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(simplifySchema);
  if (!schema || typeof schema !== "object") return schema;
  const s = { ...(schema as Json) };
  for (const [k, v] of Object.entries(s)) {
    if (k !== "const" && k !== "enum" && k !== "default" && k !== "examples") s[k] = simplifySchema(v);
  }
  const union = (s.anyOf ?? s.oneOf) as Json[] | undefined;
  if (Array.isArray(union)) {
    const kept = union.filter((u) => !isNull(u));
    const scalarOnly = kept.length > 1 && kept.every((u) => SCALARS.has(String(u.type)) && !u.enum && !u.const);
    const base: Json = { ...s };
    delete base.anyOf;
    delete base.oneOf;
    if (kept.length === 1) {
      Object.assign(base, kept[0], { title: s.title ?? kept[0].title, description: s.description ?? kept[0].description });
      if (base.default === null) delete base.default;
      return base;
    }
    if (scalarOnly) {
      base.type = "string";
      if (base.default === null) delete base.default;
      return base;
    }
    if (kept.length !== union.length) {
      if (base.default === null) delete base.default;
      return { ...base, [s.anyOf ? "anyOf" : "oneOf"]: kept };
    }
  }
  if (s.default === null) delete s.default;
  if (Array.isArray(s.prefixItems) && !s.items) {
    // a fixed-length tuple (e.g. a range [low, high]) as a list of its first item's type
    const items = s.prefixItems as Json[];
    delete s.prefixItems;
    s.items = items[0] ?? {};
    s.minItems = items.length;
    s.maxItems = items.length;
  }
  return s;
}

/** A uiSchema with each default as its field's placeholder, and the main text fields as text areas. */
export function uiSchemaFor(schema: Json, defs: Json = (schema.$defs as Json) ?? {}): Json {
  const ui: Json = {};
  const props = (schema.properties ?? {}) as Record<string, Json>;
  for (const [name, raw] of Object.entries(props)) {
    let prop = raw;
    if (typeof prop.$ref === "string") prop = (defs[prop.$ref.split("/").pop()!] as Json) ?? prop;
    const entry: Json = {};
    if (prop.default !== undefined && typeof prop.default !== "object") entry["ui:placeholder"] = String(prop.default);
    if (prop.type === "array" && prop.items && typeof prop.items === "object") {
      let items = prop.items as Json;
      if (typeof items.$ref === "string") items = (defs[items.$ref.split("/").pop()!] as Json) ?? items;
      if (items.properties) entry.items = uiSchemaFor(items, defs);
      entry["ui:options"] = { orderable: true };
    }
    if (Object.keys(entry).length) ui[name] = entry;
  }
  return ui;
}

/** Drops null and undefined values (an emptied field is not written). */
export function stripEmpty(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripEmpty);
  if (!value || typeof value !== "object") return value;
  const out: Json = {};
  for (const [k, v] of Object.entries(value as Json)) {
    if (v === null || v === undefined) continue;
    out[k] = stripEmpty(v);
  }
  return out;
}

/** The schema with each field's title in the UI language: the API gives
 * `title_ru` beside the English `title` (fields it has none for stay English). */
export function localiseSchema(schema: unknown, lang: string): unknown {
  if (lang === "en") return schema;
  const key = `title_${lang}`;
  if (Array.isArray(schema)) return schema.map((s) => localiseSchema(s, lang));
  if (!schema || typeof schema !== "object") return schema;
  const out: Json = {};
  for (const [k, v] of Object.entries(schema as Json)) {
    out[k] = k === "default" || k === "const" || k === "enum" || k === "examples" ? v : localiseSchema(v, lang);
  }
  if (typeof out[key] === "string") out.title = out[key];
  return out;
}
