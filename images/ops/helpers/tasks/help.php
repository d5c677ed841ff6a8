<?php
// Lists the tasks this ops image can run.
reply(['tasks' => array_keys($GLOBALS['tasks'])]);
