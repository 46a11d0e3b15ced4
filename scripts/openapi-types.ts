// Turns the schemas of an OpenAPI 3.0 document (components.schemas) into TypeScript declarations:
// one exported interface per object schema, a type alias for anything else. It covers what
// @nestjs/swagger emits: $ref, allOf (intersection), oneOf/anyOf (union), enum, nullable, arrays,
// objects with properties/required and additionalProperties. Descriptions become doc comments.

export interface SchemaObject {
  $ref?: string;
  type?: string;
  format?: string;
  enum?: unknown[];
  nullable?: boolean;
  description?: string;
  items?: SchemaObject;
  properties?: Record<string, SchemaObject>;
  required?: string[];
  additionalProperties?: boolean | SchemaObject;
  allOf?: SchemaObject[];
  oneOf?: SchemaObject[];
  anyOf?: SchemaObject[];
}

export interface OpenApiDocument {
  info?: { title?: string; version?: string };
  components?: { schemas?: Record<string, SchemaObject> };
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function refName(ref: string): string {
  const prefix = '#/components/schemas/';
  if (!ref.startsWith(prefix)) throw new Error(`unsupported $ref ${ref} (only ${prefix}*)`);
  return ref.slice(prefix.length);
}

function propertyKey(name: string): string {
  return IDENTIFIER.test(name) ? name : JSON.stringify(name);
}

function comment(text: string | undefined, indent: string): string {
  if (!text) return '';
  const safe = text.replace(/\*\//g, '* /').replace(/\s+/g, ' ').trim();
  return `${indent}/** ${safe} */\n`;
}

function union(types: string[]): string {
  const unique = [...new Set(types)];
  return unique.length === 1
    ? unique[0]
    : unique.map((t) => (t.includes('=>') ? `(${t})` : t)).join(' | ');
}

function objectBody(schema: SchemaObject, indent: string): string {
  const required = new Set(schema.required ?? []);
  const lines = Object.entries(schema.properties ?? {}).map(
    ([name, property]) =>
      comment(property.description, `${indent}  `) +
      `${indent}  ${propertyKey(name)}${required.has(name) ? '' : '?'}: ${typeOf(property, `${indent}  `)};\n`,
  );
  const extra = schema.additionalProperties;
  if (extra === true) lines.push(`${indent}  [key: string]: unknown;\n`);
  else if (extra && typeof extra === 'object')
    lines.push(`${indent}  [key: string]: ${typeOf(extra, `${indent}  `)};\n`);
  return lines.length === 0 ? '{}' : `{\n${lines.join('')}${indent}}`;
}

function baseType(schema: SchemaObject, indent: string): string {
  if (schema.$ref) return refName(schema.$ref);
  if (schema.allOf) return schema.allOf.map((part) => typeOf(part, indent)).join(' & ');
  const alternatives = schema.oneOf ?? schema.anyOf;
  if (alternatives) return union(alternatives.map((part) => typeOf(part, indent)));
  if (schema.enum) return union(schema.enum.map((value) => JSON.stringify(value)));
  switch (schema.type) {
    case 'string':
      return 'string';
    case 'number':
    case 'integer':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'array': {
      const item = schema.items ? typeOf(schema.items, indent) : 'unknown';
      return /^[\w.]+$/.test(item) ? `${item}[]` : `(${item})[]`;
    }
    case 'object':
    case undefined:
      if (schema.properties) return objectBody(schema, indent);
      if (schema.additionalProperties === true || schema.type === 'object') {
        const extra = schema.additionalProperties;
        return extra && typeof extra === 'object'
          ? `Record<string, ${typeOf(extra, indent)}>`
          : 'Record<string, unknown>';
      }
      return 'unknown';
    default:
      throw new Error(`unsupported schema type ${schema.type}`);
  }
}

/** The TypeScript type of one schema (nullable adds `| null`). */
export function typeOf(schema: SchemaObject, indent = ''): string {
  const type = baseType(schema, indent);
  // `A & B | null` and `A | B | null` already read as "(…) or null".
  return schema.nullable ? `${type} | null` : type;
}

/** The whole module text for `document`'s schemas, in the document's order. */
export function openApiToTypeScript(document: OpenApiDocument, source: string): string {
  const schemas = document.components?.schemas ?? {};
  const declarations = Object.entries(schemas).map(([name, schema]) => {
    if (!IDENTIFIER.test(name)) throw new Error(`schema name ${name} is not an identifier`);
    const doc = comment(schema.description, '');
    const isInterface = !schema.$ref && !schema.allOf && !schema.nullable && schema.properties;
    return isInterface
      ? `${doc}export interface ${name} ${objectBody(schema, '')}\n`
      : `${doc}export type ${name} = ${typeOf(schema)};\n`;
  });
  const title = [document.info?.title, document.info?.version].filter(Boolean).join(' ');
  return (
    `// Generated from ${source}${title ? ` (${title})` : ''} by scripts/generate-cli-types.ts.\n` +
    '// Do not edit: run `npm run openapi` after changing the API.\n\n' +
    declarations.join('\n')
  );
}
