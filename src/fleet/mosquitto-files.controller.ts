import { Controller, Get, Header, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireRole, type Principal } from '../auth/auth.decorators.js';
import { ApiErrors } from '../common/api-errors.decorator.js';
import { MosquittoAclQueryDto } from './dto/device.dto.js';
import { MosquittoFilesService } from './mosquitto-files.service.js';

// Only the file is text: errors stay JSON, so no @ApiProduces (it would apply to every response).
const TEXT = {
  description: 'The file (text/plain).',
  content: { 'text/plain': { schema: { type: 'string' } } },
};

@ApiTags('broker')
@Controller('api/v1/broker')
export class MosquittoFilesController {
  constructor(private readonly files: MosquittoFilesService) {}

  @Get('mosquitto-passwd')
  @RequireRole('admin')
  @Header('content-type', 'text/plain; charset=utf-8')
  @ApiOperation({
    summary: 'The fleet as a Mosquitto password_file',
    description:
      'One `<device id>:$7$...` line per device that has a group, as mosquitto_passwd writes them. For operators of an external Mosquitto: add the hub user line and reload.',
  })
  @ApiOkResponse(TEXT)
  @ApiErrors()
  passwd(@CurrentPrincipal() principal: Principal): Promise<string> {
    return this.files.passwordFile(principal);
  }

  @Get('mosquitto-acl')
  @RequireRole('admin')
  @Header('content-type', 'text/plain; charset=utf-8')
  @ApiOperation({
    summary: 'The fleet as a Mosquitto acl_file',
    description:
      "The embedded broker's rules for every device with a group, plus full access under sentinel/v1/# for the hub user.",
  })
  @ApiOkResponse(TEXT)
  @ApiErrors(400)
  acl(@Query() query: MosquittoAclQueryDto): Promise<string> {
    return this.files.aclFile(query.hub_user ?? 'sentinel-hub');
  }
}
