// ES module entry of the binding: the same API as avengers.js (CommonJS).
import avengers from './avengers.js';

export const { init, AvengersError } = avengers;
export default avengers;
