"""Installs the CTI middleware: the core (cti), drivers, desktop, db and simulators."""

from setuptools import find_packages, setup

setup(
    name="cti-middleware",
    version="0.1.0",
    description="Open-source CTI middleware: CSTA and serial PBX drivers, call model, ACD, "
    "agent desktop",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["cti*", "drivers*", "desktop*", "db*", "simulators*"]),
    include_package_data=True,
    package_data={
        "db": ["migrations/*.ini", "migrations/*.py", "migrations/*.mako",
               "migrations/versions/*.py"],
    },
    install_requires=[
        "twisted[tls,websocket]>=24.7",
        "lxml>=5.0",
        "sqlalchemy>=2.0.43",
        "alembic>=1.13",
        "pymysql>=1.1",
        "pyserial>=3.5",
        "PyQt5>=5.15",
        "qasync>=0.27",
    ],
    extras_require={
        "test": [
            "pytest>=8.0",
            "pytest-twisted>=1.14",
            "pytest-qt>=4.4",
            "pytest-xdist>=3.5",
            "pytest-timeout>=2.3",
            "hypothesis>=6.100",
            "ruff>=0.5",
        ],
    },
    entry_points={
        "console_scripts": ["cti = cti.cli:main"],
        "gui_scripts": ["cti-desktop = cti.commands.desktop:gui_main"],
    },
)
