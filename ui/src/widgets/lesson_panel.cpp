#include "widgets/lesson_panel.hpp"

#include "taskscope/lessons/lessons.hpp"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QEvent>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QTextBlock>
#include <QTextBrowser>
#include <QTextCursor>
#include <QTextDocument>
#include <QVBoxLayout>
#include <algorithm>

namespace taskscope::ui {

namespace {

QString qstr(std::string_view s) {
    return QString::fromUtf8(s.data(), static_cast<qsizetype>(s.size()));
}

} // namespace

LessonPanel::LessonPanel(QWidget* parent) : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    m_picker = new QComboBox(this);
    // First, "no lesson": what the dock shows beside a live run or a trace of no lesson.
    m_picker->addItem(tr("Choose a lesson…"), QString());
    for (const lessons::lesson_info& info : lessons::catalogue()) {
        m_picker->addItem(qstr(info.title), qstr(info.name));
    }
    m_picker->setToolTip(tr("The classic async demonstrations, on taskscope's own executor"));
    m_summary = new QLabel(this);
    m_summary->setWordWrap(true);

    m_scale = new QDoubleSpinBox(this);
    m_scale->setRange(0.05, 2.0);
    m_scale->setSingleStep(0.05);
    m_scale->setDecimals(2);
    m_scale->setValue(1.0);
    m_scale->setSuffix(QStringLiteral("×"));
    m_scale->setToolTip(tr("Multiplies every duration of the lesson: 1× is the classic numbers "
                           "(\"6 s against 2 s\"); 0.25× runs four times faster"));
    m_run = new QPushButton(tr("Run lesson"), this);
    m_run->setToolTip(tr("Run the lesson (Ctrl+Shift+L); press again to stop it after this phase"));
    m_replay = new QPushButton(tr("Replay"), this);
    m_replay->setToolTip(tr("Play the run back with a playhead, step by step (Ctrl+P)"));
    m_replay->setEnabled(false);

    auto* controls = new QHBoxLayout;
    auto* scaleLabel = new QLabel(tr("Time &scale"), this);
    scaleLabel->setBuddy(m_scale);
    controls->addWidget(scaleLabel);
    controls->addWidget(m_scale);
    controls->addStretch(1);
    controls->addWidget(m_run);
    controls->addWidget(m_replay);

    m_phases = new QListWidget(this);
    m_phases->setWordWrap(true);
    m_phases->setMaximumHeight(m_phases->fontMetrics().height() * 9);
    m_phases->setToolTip(tr("Each phase as it ends: its duration and what it counted"));
    m_phases->hide(); // until a lesson runs: the explanation gets the room
    m_text = new QTextBrowser(this);
    m_text->setOpenExternalLinks(true);

    layout->addWidget(m_picker);
    layout->addWidget(m_summary);
    layout->addLayout(controls);
    layout->addWidget(m_phases);
    layout->addWidget(m_text, 1);

    connect(m_picker, &QComboBox::currentIndexChanged, this, &LessonPanel::showLesson);
    connect(m_scale, &QDoubleSpinBox::valueChanged, this, &LessonPanel::showLesson);
    connect(m_run, &QPushButton::clicked, this, [this] {
        if (m_running) {
            emit stopRequested();
        } else {
            emit runRequested(currentLesson(), m_scale->value());
        }
    });
    connect(m_replay, &QPushButton::clicked, this, &LessonPanel::replayRequested);
    showLesson();
}

QString LessonPanel::currentLesson() const {
    return m_picker->currentData().toString();
}

void LessonPanel::setCurrentLesson(const QString& name) {
    const int index = m_picker->findData(name);
    m_picker->setCurrentIndex(std::max(index, 0)); // unknown or empty: no lesson
}

double LessonPanel::scale() const {
    return m_scale->value();
}

void LessonPanel::setScale(double scale) {
    m_scale->setValue(scale);
}

QString LessonPanel::explanation() const {
    return m_text->toMarkdown();
}

QString LessonPanel::summary() const {
    return m_summary->text();
}

QStringList LessonPanel::phaseLines() const {
    QStringList out;
    for (int i = 0; i < m_phases->count(); ++i) {
        out << m_phases->item(i)->text();
    }
    return out;
}

void LessonPanel::showLesson() {
    const lessons::lesson_info* info = lessons::find(currentLesson().toStdString());
    m_run->setEnabled(info != nullptr || m_running);
    if (info == nullptr) {
        m_summary->setText(tr("%1 classic demonstrations of how an executor schedules, each "
                              "run on taskscope's own. Choose one, then Run lesson.")
                               .arg(lessons::catalogue().size()));
        QString list;
        for (const lessons::lesson_info& l : lessons::catalogue()) {
            list += QStringLiteral("- **%1**: %2\n").arg(qstr(l.title), qstr(l.summary));
        }
        m_text->setMarkdown(list);
        return;
    }
    const double scale = m_scale->value();
    const QString seconds = QString::number(info->seconds * scale, 'g', 2);
    m_summary->setText(qstr(info->summary) +
                       (scale == 1.0 ? tr(" (about %1 s)").arg(seconds)
                                     : tr(" (about %1 s at %2×)").arg(seconds).arg(scale)));
    QString text = qstr(info->explanation);
    if (scale != 1.0) {
        // The text quotes the classic numbers: say what they become.
        text = tr("*The durations below are the classic ones, at 1×. At %1× every one of them "
                  "is %1 times as long.*\n\n")
                   .arg(scale) +
               text;
    }
    m_text->setMarkdown(text);
    matchCodeSize();
}

void LessonPanel::matchCodeSize() {
    // Markdown's `code` comes in the fixed font at its own size, which does not follow the
    // application font (presentation mode): give it the body text's size.
    const qreal body = m_text->font().pointSizeF();
    QTextCursor cursor(m_text->document());
    for (QTextBlock block = m_text->document()->begin(); block.isValid(); block = block.next()) {
        for (auto it = block.begin(); !it.atEnd(); ++it) {
            const QTextFragment fragment = it.fragment();
            QTextCharFormat format = fragment.charFormat();
            if (format.fontFixedPitch() || format.font().fixedPitch()) {
                format.setFontPointSize(body);
                cursor.setPosition(fragment.position());
                cursor.setPosition(fragment.position() + fragment.length(),
                                   QTextCursor::KeepAnchor);
                cursor.setCharFormat(format);
            }
        }
    }
}

void LessonPanel::changeEvent(QEvent* event) {
    QWidget::changeEvent(event);
    if (event->type() == QEvent::FontChange) {
        showLesson(); // the text again, its code at the new size
    }
}

void LessonPanel::lessonStarted() {
    m_running = true;
    m_phases->clear();
    m_phases->show();
    m_run->setText(tr("Stop"));
    m_replay->setEnabled(false);
    m_picker->setEnabled(false);
    m_scale->setEnabled(false);
}

void LessonPanel::phaseStarted(const QString& phase) {
    m_phases->addItem(tr("%1 …").arg(phase));
    m_phases->scrollToBottom();
}

void LessonPanel::phaseFinished(const QString& line) {
    // Replace the "running" line of this phase with its result.
    const int last = m_phases->count() - 1;
    if (last >= 0 && m_phases->item(last)->text().endsWith(QStringLiteral(" …"))) {
        m_phases->item(last)->setText(line);
    } else {
        m_phases->addItem(line);
    }
    m_phases->scrollToBottom();
}

void LessonPanel::lessonFinished(bool stopped, const QString& error, bool replayable) {
    m_running = false;
    m_run->setText(tr("Run lesson"));
    m_picker->setEnabled(true);
    m_scale->setEnabled(true);
    m_replay->setEnabled(replayable);
    if (!error.isEmpty()) {
        m_phases->addItem(tr("failed: %1").arg(error));
    } else if (!replayable) {
        m_phases->addItem(tr("stopped: the window went on to another trace"));
    } else if (stopped) {
        m_phases->addItem(tr("stopped: Replay plays back what ran"));
    } else {
        m_phases->addItem(tr("done: press Replay to step through it"));
    }
    m_phases->scrollToBottom();
}

} // namespace taskscope::ui
