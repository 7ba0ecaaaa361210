import { Module } from '@nestjs/common';
import { ConnectionPool } from './connection-pool.service.js';
import { HeartbeatScheduler } from './heartbeat.scheduler.js';

@Module({ providers: [ConnectionPool, HeartbeatScheduler], exports: [ConnectionPool] })
export class ConnectionsModule {}
