import type { OpenAPIObject } from '@nestjs/swagger';

/** A well-formed UUID the examples use: a pre-filled "Try it out" with it gets a 404, never a 400. */
export const EXAMPLE_UUID = '9b2f4c1e-3a5d-4e6f-8a7b-1c2d3e4f5a6b';

/** Path parameter examples by the collection the parameter names a member of. */
const PATH_EXAMPLES: Record<string, string> = {
  tokens: EXAMPLE_UUID,
  models: EXAMPLE_UUID,
  deployments: EXAMPLE_UUID,
  groups: 'yard-cams',
  devices: 'cam-0042',
  gates: 'production',
  // /aliases/{model}/{alias}: a model name, then an alias of it.
  aliases: 'detector',
  '{model}': 'champion',
};

/** The example of the path parameter `{name}` in `path`, from the segment before it; undefined if none. */
export function pathParameterExample(path: string, name: string): string | undefined {
  const segments = path.split('/');
  const at = segments.indexOf(`{${name}}`);
  return at > 0 ? PATH_EXAMPLES[segments[at - 1]!] : undefined;
}

/**
 * Gives every path parameter without one an example, so that Swagger UI's "Try it out" starts from a
 * well-formed request (it pre-fills examples; an empty required path parameter cannot be sent).
 */
export function addPathParameterExamples(document: OpenAPIObject): OpenAPIObject {
  for (const [path, item] of Object.entries(document.paths)) {
    for (const operation of Object.values(item)) {
      if (typeof operation !== 'object' || operation === null || !('responses' in operation))
        continue;
      for (const parameter of operation.parameters ?? []) {
        if ('$ref' in parameter || parameter.in !== 'path' || parameter.example !== undefined)
          continue;
        const example = pathParameterExample(path, parameter.name);
        if (example !== undefined) parameter.example = example;
      }
    }
  }
  return document;
}
