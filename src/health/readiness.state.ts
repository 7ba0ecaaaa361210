import { Injectable, Logger } from '@nestjs/common';

/**
 * Whether this process should still be sent new clients. The shutdown sequence marks it draining
 * on SIGTERM, so `/health/ready` turns 503 and load balancers stop routing here while the live
 * connections are still served; once draining, it never turns back.
 */
@Injectable()
export class ReadinessState {
  private readonly logger = new Logger(ReadinessState.name);
  private isDraining = false;

  /** Idempotent: a second signal changes nothing. */
  markDraining(): void {
    if (this.isDraining) return;
    this.isDraining = true;
    this.logger.log('Draining: /health/ready answers 503 from now on');
  }

  get draining(): boolean {
    return this.isDraining;
  }
}
