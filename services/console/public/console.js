// NHS.UK frontend's components (header menu, error summary focus) need their JavaScript started once.
import { initAll } from '/assets/nhsuk/nhsuk-frontend.min.js';

initAll();
