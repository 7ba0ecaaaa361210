import { Inject, Logger, Module, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { Authenticator } from './authenticator.js';
import { createAuthenticator } from './authenticator.factory.js';
import { JwtAuthenticator } from './jwt.authenticator.js';

/** Provides the configured `Authenticator`; a JWKS file is re-read on SIGHUP. */
@Module({
  providers: [
    {
      provide: Authenticator,
      useFactory: (config: AppConfig) => createAuthenticator(config.auth),
      inject: [AppConfig],
    },
  ],
  exports: [Authenticator],
})
export class AuthModule implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(AuthModule.name);
  private readonly onHangup = (): void => {
    if (this.authenticator instanceof JwtAuthenticator) this.authenticator.reload();
    else this.logger.log('SIGHUP: nothing to reload');
  };

  constructor(@Inject(Authenticator) private readonly authenticator: Authenticator) {}

  onApplicationBootstrap(): void {
    process.on('SIGHUP', this.onHangup);
  }

  onModuleDestroy(): void {
    process.off('SIGHUP', this.onHangup);
  }
}
