// The real-Docker registrator suite against berth (see testing/docker-suite.ts).
import { registratorDockerSuite } from './testing/docker-suite.ts';

registratorDockerSuite('berth');
