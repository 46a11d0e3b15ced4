import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { OpenAPIObject } from '@nestjs/swagger';
import {
  addPathParameterExamples,
  EXAMPLE_UUID,
  pathParameterExample,
} from './openapi-examples.js';

describe('path parameter examples', () => {
  it('follow the collection the parameter is a member of', () => {
    assert.equal(pathParameterExample('/api/v1/models/{id}/artifact', 'id'), EXAMPLE_UUID);
    assert.equal(pathParameterExample('/api/v1/groups/{name}/desired', 'name'), 'yard-cams');
    assert.equal(pathParameterExample('/api/v1/devices/{id}', 'id'), 'cam-0042');
    assert.equal(pathParameterExample('/api/v1/deployments/{id}/health', 'id'), EXAMPLE_UUID);
  });

  it('leave parameters of unknown collections alone', () => {
    assert.equal(pathParameterExample('/api/v1/widgets/{id}', 'id'), undefined);
    assert.equal(pathParameterExample('/{id}', 'id'), undefined);
    assert.equal(pathParameterExample('/api/v1/models/{id}', 'other'), undefined);
  });

  it('are added to path parameters only, keeping examples already given', () => {
    const document = {
      openapi: '3.0.0',
      info: { title: 't', version: '1' },
      paths: {
        '/api/v1/devices/{id}': {
          get: {
            responses: {},
            parameters: [
              { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
              { name: 'id', in: 'query', schema: { type: 'string' } },
            ],
          },
          put: {
            responses: {},
            parameters: [{ name: 'id', in: 'path', required: true, example: 'cam-7' }],
          },
        },
      },
    } as unknown as OpenAPIObject;
    const [path, query] = addPathParameterExamples(document).paths['/api/v1/devices/{id}']!.get!
      .parameters as { example?: string }[];
    assert.equal(path!.example, 'cam-0042');
    assert.equal(query!.example, undefined);
    const put = document.paths['/api/v1/devices/{id}']!.put!.parameters as { example?: string }[];
    assert.equal(put[0]!.example, 'cam-7');
  });
});
