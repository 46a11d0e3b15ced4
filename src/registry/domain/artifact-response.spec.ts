import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { artifactEtag, planArtifactResponse } from './artifact-response.js';

const sha = 'a'.repeat(64);
const etag = artifactEtag(sha);

describe('artifact responses', () => {
  it('serves the whole file without Range', () => {
    assert.deepEqual(planArtifactResponse(1000, sha, {}), { status: 200 });
  });
  it('serves a single range as 206 with inclusive ends', () => {
    assert.deepEqual(planArtifactResponse(1000, sha, { range: 'bytes=100-199' }), {
      status: 206,
      range: { start: 100, end: 199 },
    });
    assert.deepEqual(planArtifactResponse(1000, sha, { range: 'bytes=900-' }), {
      status: 206,
      range: { start: 900, end: 999 },
    });
    // a suffix range: the last 10 bytes
    assert.deepEqual(planArtifactResponse(1000, sha, { range: 'bytes=-10' }), {
      status: 206,
      range: { start: 990, end: 999 },
    });
  });
  it('clamps a range that runs past the end', () => {
    assert.deepEqual(planArtifactResponse(1000, sha, { range: 'bytes=500-5000' }), {
      status: 206,
      range: { start: 500, end: 999 },
    });
  });
  it('answers 416 for a range wholly outside the file', () => {
    assert.deepEqual(planArtifactResponse(1000, sha, { range: 'bytes=1000-1001' }), {
      status: 416,
    });
  });
  it('ignores a malformed Range header and serves everything', () => {
    assert.deepEqual(planArtifactResponse(1000, sha, { range: 'bytes=abc' }), { status: 200 });
  });
  it('serves several disjoint ranges as the whole file', () => {
    assert.deepEqual(planArtifactResponse(1000, sha, { range: 'bytes=0-1,500-501' }), {
      status: 200,
    });
  });
  it('answers 304 when If-None-Match holds the ETag, also in a list or weak', () => {
    assert.deepEqual(planArtifactResponse(1000, sha, { ifNoneMatch: etag }), { status: 304 });
    assert.deepEqual(planArtifactResponse(1000, sha, { ifNoneMatch: `"x", W/${etag}` }), {
      status: 304,
    });
    assert.deepEqual(planArtifactResponse(1000, sha, { ifNoneMatch: '"other"' }), { status: 200 });
  });
  it('honours If-Range only when it names the current ETag', () => {
    assert.equal(
      planArtifactResponse(1000, sha, { range: 'bytes=0-9', ifRange: etag }).status,
      206,
    );
    assert.equal(
      planArtifactResponse(1000, sha, { range: 'bytes=0-9', ifRange: '"stale"' }).status,
      200,
    );
  });
});
