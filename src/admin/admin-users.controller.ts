import { Controller, Delete, Get, Param, UseGuards, UsePipes } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { ADMIN_SECURITY_SCHEME } from './admin.constants.js';
import { AdminTokenGuard } from './admin-token.guard.js';
import { AdminUsersService } from './admin-users.service.js';
import { httpErrorSchema } from './http-error.dto.js';
import { type KickResult, kickResultSchema, type Presence, presenceSchema } from './presence.dto.js';
import { schemaValidation } from './schema-validation.pipe.js';
import { userIdSchema } from './user-id.schema.js';

@ApiTags('users')
@ApiBearerAuth(ADMIN_SECURITY_SCHEME)
@ApiUnauthorizedResponse({ description: 'Missing or wrong bearer token', standardSchema: httpErrorSchema })
@ApiBadRequestResponse({ description: 'Invalid user id; `message` says why', standardSchema: httpErrorSchema })
@UseGuards(AdminTokenGuard)
@UsePipes(schemaValidation)
@Controller('admin/users')
export class AdminUsersController {
  constructor(private readonly users: AdminUsersService) {}

  @Get(':id')
  @ApiOperation({ summary: "A user's live connections on this gateway, and every gateway process holding one" })
  @ApiOkResponse({ description: 'Online or not, with its connections here', standardSchema: presenceSchema })
  presence(@Param('id', { schema: userIdSchema }) user: string): Promise<Presence> {
    return this.users.presence(user);
  }

  @Delete(':id/connections')
  @ApiOperation({ summary: "Close every live connection of a user, on every gateway process, with 4003 'kicked'" })
  @ApiOkResponse({ description: 'How many connections were closed', standardSchema: kickResultSchema })
  kick(@Param('id', { schema: userIdSchema }) user: string): Promise<KickResult> {
    return this.users.kick(user);
  }
}
