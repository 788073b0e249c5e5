"""The user venv's packages: specs, jobs, the installer, the manifest, all-or-nothing installs."""
