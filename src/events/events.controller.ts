import { Controller, Get, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentPrincipal, RequireRole, type Principal } from '../auth/auth.decorators.js';
import { ApiErrors } from '../common/api-errors.decorator.js';
import { LiveEvents } from './live-events.service.js';

@ApiTags('events')
@Controller('api/v1/events')
export class EventsController {
  constructor(private readonly live: LiveEvents) {}

  @Get()
  @RequireRole('viewer')
  @ApiOperation({
    summary: 'Live changes as Server-Sent Events: what to re-fetch',
    description:
      'A text/event-stream that stays open (read it with a streaming fetch: the token goes in the ' +
      'Authorization header, as everywhere). It starts with "retry: 3000"; a ": ping" comment comes every ' +
      '15 s. Events, each coalesced: `deployment` {"id", "status"} when a deployment is created or changes ' +
      '(status, step, verdict, device phases), at most one per deployment per 500 ms; `devices` {"ids", ' +
      '"more"} when devices report state, are created, changed, moved, rotated or deleted, one event per ' +
      '500 ms naming at most 500 devices ("more": true: re-fetch the whole list); `model` {"id"} when a ' +
      'model version is pushed, changed or deleted. Deleting the token closes its streams. Each hub ' +
      'instance streams the changes it hears itself.',
  })
  @ApiProduces('text/event-stream')
  @ApiOkResponse({
    description: 'The stream (never ends by itself).',
    content: {
      'text/event-stream': {
        schema: { type: 'string' },
        example:
          'retry: 3000\n\nevent: deployment\ndata: {"id":"0b6c5a4e-1f2d-4c3b-9a8e-7d6f5e4c3b2a","status":"in_progress"}\n\n' +
          'event: devices\ndata: {"ids":["cam-1","cam-2"],"more":false}\n\n: ping\n\n',
      },
    },
  })
  @ApiErrors()
  stream(@CurrentPrincipal() principal: Principal, @Res() response: Response): void {
    this.live.open(principal.tokenId, response);
  }
}
