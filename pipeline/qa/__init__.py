"""Loudness and audio QA (`wayfinder qa`): is a file ready to publish?

- `settings`: thresholds (`QaSettings`) and the preset's target and ceiling (`QaLimits`).
- `analyse`: decode a file once; feed the loudness meter and the detectors.
- `detectors`: streaming silence/dropout, clipping, phase and hum detectors.
- `checks`: measurements in, PASS / WARN / FAIL with a reason out (pure).
- `run`: find media files, QA them in parallel, collect a `QaReport` (`run_qa`).
- `model`: the result types and check names.
- `report_json`, `junit`, `html` (+ `plot`, `output`): the three report formats.
"""
