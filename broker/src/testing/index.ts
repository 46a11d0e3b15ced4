export { exactPercentile, normal, seededRandom } from './seeded-random.js';
