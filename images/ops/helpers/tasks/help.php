<?php
// Lists the tasks this ops image can run.
reply(['tasks' => TASKS]);
