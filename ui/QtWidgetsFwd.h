// Forward declarations of the Qt widget classes the page headers keep pointers to (as <iosfwd> does for
// streams), so a page header declares only its own collaborators.
#pragma once

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QSplitter;
class QTabWidget;
class QTableView;
class QTextBrowser;
