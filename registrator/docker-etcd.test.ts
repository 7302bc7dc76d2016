// The real-Docker registrator suite against etcd (see testing/docker-suite.ts).
import { registratorDockerSuite } from './testing/docker-suite.ts';

registratorDockerSuite('etcd');
