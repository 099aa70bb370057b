/**
 * Every etcd v3 gRPC service a member serves, registered on one {@link GrpcServer}. The
 * composition root calls this once; each service lives in its own file.
 */
import { GrpcServer } from '../grpc/grpc-server';
import { Member } from '../member';
import { registerKvService } from './kv-service';
import { registerLeaseService } from './lease-service';
import { registerWatchService } from './watch-service';
import { registerClusterService } from './cluster-service';
import { registerMaintenanceService } from './maintenance-service';
import { registerHealthService } from './health-service';
import { instrumentMember } from '../metrics';
import { recordGatewayServer } from './gateway-handler';

/** Registers the etcd v3 services of `member` on `server`. */
export function registerEtcdServices(server: GrpcServer, member: Member): void {
  registerKvService(server, member);
  registerLeaseService(server, member);
  registerWatchService(server, member);
  registerClusterService(server, member);
  registerMaintenanceService(server, member);
  registerHealthService(server, member);
  instrumentMember(server, member);
  recordGatewayServer(member, server);
}
