import { Module } from '@nestjs/common';
import { ClusterLink } from './cluster-link.js';
import { NodeBus } from './node-bus.js';
import { Presence } from './presence.js';

@Module({
  providers: [
    ClusterLink,
    { provide: Presence, useFactory: (link: ClusterLink) => link.presence, inject: [ClusterLink] },
    { provide: NodeBus, useFactory: (link: ClusterLink) => link.bus, inject: [ClusterLink] },
  ],
  exports: [ClusterLink, Presence, NodeBus],
})
export class ClusterModule {}
