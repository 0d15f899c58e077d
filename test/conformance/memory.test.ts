import { storeSuite } from '../../src/testing/index.js';
import { memoryStore } from '../../src/stores/memory.js';

storeSuite('memory', () => memoryStore());
