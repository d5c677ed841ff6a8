<?php
// Keep the checksums of the core the site runs, while the image carries them (lib/core.php): run before the
// site moves to other images. Runs in the ops service, with the backups volume.
reply(['kept' => keep_checksums()]);
