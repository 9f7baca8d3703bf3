import './polyfill.js';
import './stdout-guard.js';
