// The properties of the selected node: id, title, where each exit leads, and
// a form generated from the node type's params JSON Schema (rjsf). No node
// type has editor code of its own; expression and template fields get the
// live-checked input by their JSON Schema `format`.
import Form from "@rjsf/core";
import type { RegistryWidgetsType, RJSFSchema, WidgetProps } from "@rjsf/utils";
import { customizeValidator } from "@rjsf/validator-ajv8";
import { useMemo, useState } from "react";
import { nodeExits, componentTitle, type ComponentInfo, type NodeDoc } from "../../../canvas/model";
import { useLang, useStrings } from "../../../i18n";
import { ExpressionInput } from "./ExpressionInput";
import { localiseSchema, simplifySchema, stripEmpty, uiSchemaFor } from "./schemaForm";
import { EDITOR_STRINGS } from "./strings";

const validator = customizeValidator({
  customFormats: { expression: () => true, template: () => true, variable: /^[^\W\d]\w*$/u, media: () => true },
});

function ExpressionWidget(props: WidgetProps) {
  return (
    <ExpressionInput id={props.id} value={String(props.value ?? "")} kind="expression" label={props.label}
      disabled={props.disabled || props.readonly} onChange={(v) => props.onChange(v === "" ? undefined : v)} />
  );
}
function TemplateWidget(props: WidgetProps) {
  return (
    <ExpressionInput id={props.id} value={String(props.value ?? "")} kind="template" label={props.label} multiline
      disabled={props.disabled || props.readonly} onChange={(v) => props.onChange(v === "" ? undefined : v)} />
  );
}
const widgets: RegistryWidgetsType = { expression: ExpressionWidget, template: TemplateWidget };

export function Inspector({
  node,
  component,
  nodeIds,
  readOnly,
  onParams,
  onTitle,
  onRename,
  onExit,
}: {
  node: NodeDoc;
  component: ComponentInfo | undefined;
  nodeIds: string[];
  readOnly: boolean;
  onParams: (params: Record<string, unknown>) => void;
  onTitle: (title: string) => void;
  onRename: (id: string) => boolean;
  onExit: (exit: string, target: string | null) => void;
}) {
  const t = useStrings(EDITOR_STRINGS);
  const { lang } = useLang();
  const [idText, setIdText] = useState(node.id);
  const [idError, setIdError] = useState("");
  const schema = useMemo(
    () => (component ? (simplifySchema(localiseSchema(component.params_schema, lang)) as RJSFSchema) : null),
    [component, lang],
  );
  const uiSchema = useMemo(() => (schema ? uiSchemaFor(schema as Record<string, unknown>) : {}), [schema]);
  const exits = nodeExits(node, component);
  const typeTitle = componentTitle(component, lang, node.type);

  const commitId = () => {
    if (idText === node.id) return;
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/.test(idText) || !onRename(idText)) {
      setIdError(t("badId"));
      return;
    }
    setIdError("");
  };

  return (
    <div className="inspector" data-testid="inspector" aria-label={t("properties")}>
      <h2>{typeTitle}</h2>
      {component?.description && <p className="muted small">{component.description}</p>}
      <label className="field">
        <span>{t("nodeId")}</span>
        <input value={idText} disabled={readOnly} onChange={(e) => setIdText(e.target.value)} onBlur={commitId}
          onKeyDown={(e) => e.key === "Enter" && commitId()} aria-invalid={idError !== ""} />
        {idError && <span className="field-error" role="alert">{idError}</span>}
      </label>
      <label className="field">
        <span>{t("nodeTitle")}</span>
        <input value={node.title ?? ""} disabled={readOnly} placeholder={typeTitle} onChange={(e) => onTitle(e.target.value)} />
      </label>
      {exits.length > 0 && (
        <fieldset className="exits-box">
          <legend>{t("exits")}</legend>
          {exits.map((exit) => (
            <label key={exit} className="exit-row">
              <code>{exit}</code>
              <select
                aria-label={t("exitTarget", { exit })}
                value={node.exits?.[exit] ?? ""}
                disabled={readOnly}
                onChange={(e) => onExit(exit, e.target.value || null)}
              >
                <option value="">{t("notWired")}</option>
                {nodeIds.filter((id) => id !== node.id).map((id) => (
                  <option key={id} value={id}>{id}</option>
                ))}
              </select>
            </label>
          ))}
        </fieldset>
      )}
      {schema && Object.keys((schema.properties as object) ?? {}).length > 0 && (
        <Form
          key={node.id}
          className="params-form"
          schema={schema}
          uiSchema={uiSchema}
          formData={node.params ?? {}}
          validator={validator}
          widgets={widgets}
          disabled={readOnly}
          noHtml5Validate
          showErrorList={false}
          experimental_defaultFormStateBehavior={{ emptyObjectFields: "populateRequiredDefaults" }}
          onChange={(e) => onParams(stripEmpty(e.formData ?? {}) as Record<string, unknown>)}
        >
          <></>
        </Form>
      )}
      {!component && <p className="notice notice-warn">{t("unknownType", { type: node.type })}</p>}
    </div>
  );
}
