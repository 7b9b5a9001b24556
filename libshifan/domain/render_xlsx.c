/* render_xlsx.c - an evaluation result as an Excel workbook (render.h).
 *
 * Sheet 汇总: one row per prefecture (quota, completeness, timeliness,
 * qualified, recommendation) and the province's total, then the
 * demonstration units, national candidates, progress per year and against
 * the targets. Then one sheet per prefecture (per quota holder): one row per
 * unit, one column per item, a failed item filled red. Every sheet has a
 * title row and a frozen header row under it; numbers are number cells. */
#include "base/error.h"
#include "base/stime.h"
#include "domain/render.h"
#include "domain/xlsx.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xlsxwriter.h>

#define FILL_FAIL 0xFFC7CE /* Excel's own "bad" and "good" cell styles */
#define FONT_FAIL 0x9C0006
#define FILL_PASS 0xC6EFCE
#define FONT_PASS 0x006100
#define FILL_HEADER 0xDDEBF7
#define FILL_MISSING 0xEDEDED

/* The workbook's formats, made once. */
typedef struct {
    lxw_workbook *book;
    lxw_format *title, *header, *fail, *pass, *missing, *decimal;
} styles_t;

/* One sheet being written, and the width each column needs. */
typedef struct {
    lxw_worksheet *ws;
    double *widths;
    size_t columns;
    int rc;
} sheet_t;

static lxw_format *new_format(lxw_workbook *book, unsigned fill, unsigned font)
{
    lxw_format *format = workbook_add_format(book);
    if (fill)
        format_set_bg_color(format, fill);
    if (font)
        format_set_font_color(format, font);
    return format;
}

static void styles_init(styles_t *st, lxw_workbook *book)
{
    st->book = book;
    st->title = workbook_add_format(book);
    format_set_bold(st->title);
    format_set_font_size(st->title, 13);
    st->header = new_format(book, FILL_HEADER, 0);
    format_set_bold(st->header);
    format_set_bottom(st->header, LXW_BORDER_THIN);
    format_set_text_wrap(st->header);
    st->fail = new_format(book, FILL_FAIL, FONT_FAIL);
    st->pass = new_format(book, FILL_PASS, FONT_PASS);
    st->missing = new_format(book, FILL_MISSING, 0);
    st->decimal = workbook_add_format(book);
    format_set_num_format(st->decimal, "0.00");
}

static void note(sheet_t *sh, lxw_col_t col, const char *text, lxw_error err)
{
    if (err != LXW_NO_ERROR && sh->rc == 0)
        sh->rc = err == LXW_ERROR_MEMORY_MALLOC_FAILED ? SF_ENOMEM : SF_EINVAL;
    double width = xlsx_text_width(text);
    if (col < sh->columns && width > sh->widths[col])
        sh->widths[col] = width;
}

static void put_text(sheet_t *sh, lxw_row_t row, lxw_col_t col, const char *text,
                     lxw_format *format)
{
    note(sh, col, text ? text : "",
         worksheet_write_string(sh->ws, row, col, text ? text : "", format));
}

static void put_number(sheet_t *sh, lxw_row_t row, lxw_col_t col, double value, lxw_format *format)
{
    char shown[32];
    if (format) /* two decimals, as the JSON and CSV write them */
        value = round(value * 100.0) / 100.0;
    snprintf(shown, sizeof shown, format ? "%.2f" : "%.0f", value);
    note(sh, col, shown, worksheet_write_number(sh->ws, row, col, value, format));
}

/* A title in row 0 and the header in row 1, frozen with `fixed` columns. */
static void sheet_header(sheet_t *sh, const styles_t *st, const char *title,
                         const char *const *names, size_t count, lxw_col_t fixed)
{
    note(sh, 0, "", worksheet_write_string(sh->ws, 0, 0, title, st->title));
    for (size_t i = 0; i < count; i++)
        put_text(sh, 1, (lxw_col_t)i, names[i], st->header);
    worksheet_freeze_panes(sh->ws, 2, fixed);
}

static int sheet_open(sheet_t *sh, lxw_workbook *book, const char *name, size_t columns)
{
    sh->ws = workbook_add_worksheet(book, name);
    sh->widths = calloc(columns, sizeof *sh->widths);
    sh->columns = columns;
    sh->rc = sh->ws && sh->widths ? 0 : SF_ENOMEM;
    return sh->rc;
}

/* Sets the widths and frees them; the sheet's first error, else 0. */
static int sheet_close(sheet_t *sh)
{
    for (size_t col = 0; col < sh->columns && sh->ws; col++)
        worksheet_set_column(sh->ws, (lxw_col_t)col, (lxw_col_t)col,
                             sh->widths[col] ? sh->widths[col] : 8, NULL);
    free(sh->widths);
    sh->widths = NULL;
    return sh->rc;
}

static double percent_of(size_t part, size_t whole)
{
    return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

static const char *status_label(engine_status_t status)
{
    static const char *const labels[] = {"按时", "迟报", "未报"};
    return status <= ENGINE_MISSING ? labels[status] : "";
}

static const char *source_label(engine_rec_source_t source)
{
    static const char *const labels[] = {"自动排名（暂定）", "暂定（未确认）", "已确认"};
    return source <= ENGINE_REC_CONFIRMED ? labels[source] : "";
}

/* The units' names joined with 、, into buf. */
static void join_names(char *buf, size_t size, const engine_unit_result_t *const *list,
                       size_t count)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < count; i++) {
        int n = snprintf(buf + used, size - used, "%s%s", i ? "、" : "",
                         list[i]->unit->name ? list[i]->unit->name : list[i]->unit->code);
        if (n < 0 || (size_t)n >= size - used)
            break;
        used += (size_t)n;
    }
}

/* The unit's flags in Chinese, joined with 、, into buf. */
static void join_flags(char *buf, size_t size, unsigned flags, const char *return_reason)
{
    static const char *const labels[ENGINE_FLAG_COUNT] = {
        "迟报",         "核查不符（取消本年度推荐资格）",
        "已退回修改",   "有缺项",
        "经核查",       "已更正",
        "未到截止日期", "往年已认定",
        "申报时间存疑"};
    size_t used = 0;
    buf[0] = '\0';
    for (unsigned bit = 0; bit < ENGINE_FLAG_COUNT; bit++) {
        if (!(flags & (1u << bit)))
            continue;
        bool reason = (1u << bit) == ENGINE_FLAG_RETURNED && return_reason;
        int n = snprintf(buf + used, size - used, "%s%s%s%s%s", used ? "、" : "", labels[bit],
                         reason ? "（" : "", reason ? return_reason : "", reason ? "）" : "");
        if (n < 0 || (size_t)n >= size - used)
            break;
        used += (size_t)n;
    }
}

static const char *const summary_columns[] = {
    "代码", "名称", "名额",        "应报", "已报",     "完整率（%）", "按时",
    "迟报", "未报", "及时率（%）", "合格", "推荐来源", "推荐单位"};
#define SUMMARY_COLUMNS (sizeof summary_columns / sizeof summary_columns[0])

/* One summary row: a prefecture (with its quota and list) or the total. */
static void summary_row(sheet_t *sh, const styles_t *st, lxw_row_t row,
                        const programme_unit_t *unit, const engine_summary_t *s,
                        const engine_prefecture_result_t *pref)
{
    char names[2048];
    put_text(sh, row, 0, unit->code, NULL);
    put_text(sh, row, 1, unit->name, NULL);
    if (pref)
        put_number(sh, row, 2, pref->quota, NULL);
    const size_t counts[] = {s->expected, s->reported};
    for (lxw_col_t k = 0; k < 2; k++)
        put_number(sh, row, 3 + k, (double)counts[k], NULL);
    put_number(sh, row, 5, percent_of(s->reported, s->expected), st->decimal);
    const size_t timely[] = {s->on_time, s->late, s->missing};
    for (lxw_col_t k = 0; k < 3; k++)
        put_number(sh, row, 6 + k, (double)timely[k], NULL);
    put_number(sh, row, 9, percent_of(s->on_time, s->expected), st->decimal);
    put_number(sh, row, 10, (double)s->qualified, NULL);
    if (pref) {
        put_text(sh, row, 11, source_label(pref->source), NULL);
        join_names(names, sizeof names, pref->recommended, pref->recommended_count);
        put_text(sh, row, 12, pref->recommended_count ? names : "无", NULL);
    }
}

/* The province's lists and progress under the table, from row `row`. */
static void summary_province(sheet_t *sh, const styles_t *st, lxw_row_t row,
                             const programme_t *programme, const engine_province_result_t *pr)
{
    char names[4096];
    bool sites = programme_evaluated_level(programme) == LEVEL_SITE;
    put_text(sh, row, 0, sites ? "本年示范点" : "本年示范县", st->header);
    join_names(names, sizeof names, pr->demonstration, pr->demonstration_count);
    put_text(sh, row++, 1, pr->demonstration_count ? names : "无", NULL);
    put_text(sh, row, 0, "国家级候选", st->header);
    join_names(names, sizeof names, pr->national, pr->national_count);
    put_text(sh, row++, 1, pr->national_count ? names : "无", NULL);
    row++;
    static const char *const years[] = {"年度", "示范", "国家级", "累计示范", "累计国家级"};
    for (lxw_col_t k = 0; k < 5; k++)
        put_text(sh, row, k, years[k], st->header);
    for (size_t i = 0; i < pr->progress_count; i++) {
        const engine_progress_t *g = &pr->progress[i];
        const double values[] = {g->year, (double)g->demonstration, (double)g->national,
                                 (double)g->demonstration_total, (double)g->national_total};
        row++;
        for (lxw_col_t k = 0; k < 5; k++)
            put_number(sh, row, k, values[k], NULL);
    }
    row += 2;
    static const char *const targets[] = {"目标", "截止年度", "需要", "已达成", "完成率（%）"};
    for (lxw_col_t k = 0; k < 5; k++)
        put_text(sh, row, k, targets[k], st->header);
    for (size_t i = 0; i < pr->target_count; i++) {
        const engine_target_t *t = &pr->targets[i];
        put_text(sh, ++row, 0, t->title_zh ? t->title_zh : t->id, NULL);
        put_number(sh, row, 1, t->by, NULL);
        put_number(sh, row, 2, (double)t->needed, NULL);
        put_number(sh, row, 3, (double)t->achieved, NULL);
        put_number(sh, row, 4, t->percent, st->decimal);
    }
}

static int summary_sheet(const styles_t *st, const engine_result_t *result)
{
    const programme_t *programme = engine_result_programme(result);
    const engine_province_result_t *province = engine_result_province(result);
    sheet_t sh;
    if (sheet_open(&sh, st->book, "汇总", SUMMARY_COLUMNS))
        return sheet_close(&sh);
    char when[64], title[512];
    snprintf(title, sizeof title, "%s %d 年度评估汇总（方案 %s 第 %llu 版，评估时间 %s）",
             province ? province->unit->name : programme_title(programme),
             engine_result_year(result), programme_id(programme),
             (unsigned long long)programme_revision(programme),
             stime_format(engine_result_now(result), when, sizeof when));
    sheet_header(&sh, st, title, summary_columns, SUMMARY_COLUMNS, 2);
    lxw_row_t row = 2;
    for (size_t i = 0; i < engine_result_prefecture_count(result); i++, row++) {
        const engine_prefecture_result_t *pref = engine_result_prefecture(result, i);
        summary_row(&sh, st, row, pref->unit, &pref->summary, pref);
    }
    if (province) {
        summary_row(&sh, st, row, province->unit, &province->summary, NULL);
        put_text(&sh, row, 11, "全省合计", NULL);
        summary_province(&sh, st, row + 2, programme, province);
    }
    return sheet_close(&sh);
}

static const char *const unit_columns[] = {
    "代码", "名称", "上报情况", "评定",       "通过项数", "平均超出阈值（百分点）",
    "排名", "推荐", "示范",     "国家级候选", "未通过项", "标记"};
#define UNIT_COLUMNS (sizeof unit_columns / sizeof unit_columns[0])

/* Under each item's header, the titles of its criteria as a cell comment. */
static void item_header(sheet_t *sh, const styles_t *st, const programme_t *programme, size_t k)
{
    const programme_item_t *item = programme_item(programme, k);
    lxw_col_t col = (lxw_col_t)(UNIT_COLUMNS + k);
    put_text(sh, 1, col, item->id, st->header);
    char titles[1024] = "";
    size_t used = 0;
    for (int c = 0; c < item->criterion_count; c++) {
        const programme_criterion_t *cr =
            programme_criterion(programme, (size_t)(item->first_criterion + c));
        int n = snprintf(titles + used, sizeof titles - used, "%s%s %s", used ? "\n" : "", cr->id,
                         cr->title_zh ? cr->title_zh : "");
        if (n < 0 || (size_t)n >= sizeof titles - used)
            break;
        used += (size_t)n;
    }
    if (used)
        worksheet_write_comment(sh->ws, 1, col, titles);
}

static void unit_row(sheet_t *sh, const styles_t *st, const programme_t *programme, lxw_row_t row,
                     const engine_unit_result_t *u)
{
    size_t items = programme_item_count(programme);
    char text[2048];
    bool missing = u->status == ENGINE_MISSING;
    put_text(sh, row, 0, u->unit->code, NULL);
    put_text(sh, row, 1, u->unit->name, NULL);
    put_text(sh, row, 2, status_label(u->status), missing ? st->missing : NULL);
    put_text(sh, row, 3, u->qualified ? "合格" : "不合格", u->qualified ? st->pass : st->fail);
    put_number(sh, row, 4, (double)u->items_passed, NULL);
    if (!missing)
        put_number(sh, row, 5, u->mean_margin, st->decimal);
    if (u->rank > 0)
        put_number(sh, row, 6, u->rank, NULL);
    const bool marks[] = {u->recommended, u->demonstration, u->national_candidate};
    for (lxw_col_t k = 0; k < 3; k++)
        put_text(sh, row, 7 + k, marks[k] ? "是" : "否", NULL);
    size_t used = 0;
    text[0] = '\0';
    for (size_t k = 0; k < items && !missing; k++) {
        if (u->item_passed[k])
            continue;
        int n = snprintf(text + used, sizeof text - used, "%s%s", used ? "、" : "",
                         programme_item(programme, k)->id);
        if (n < 0 || (size_t)n >= sizeof text - used)
            break;
        used += (size_t)n;
    }
    put_text(sh, row, 10, text, NULL);
    join_flags(text, sizeof text, u->flags, u->return_reason);
    put_text(sh, row, 11, text, NULL);
    for (size_t k = 0; k < items; k++) {
        lxw_col_t col = (lxw_col_t)(UNIT_COLUMNS + k);
        if (missing)
            put_text(sh, row, col, "–", st->missing);
        else
            put_text(sh, row, col, u->item_passed[k] ? "✓" : "✗",
                     u->item_passed[k] ? st->pass : st->fail);
    }
}

/* A sheet's name: the prefecture's name when Excel accepts it and no sheet
 * has it yet, else its code. */
static const char *sheet_name(lxw_workbook *book, const programme_unit_t *unit)
{
    if (unit->name && workbook_validate_sheet_name(book, unit->name) == LXW_NO_ERROR)
        return unit->name;
    return unit->code;
}

static int prefecture_sheet(const styles_t *st, const engine_result_t *result,
                            const engine_prefecture_result_t *pref)
{
    const programme_t *programme = engine_result_programme(result);
    size_t items = programme_item_count(programme);
    sheet_t sh;
    if (sheet_open(&sh, st->book, sheet_name(st->book, pref->unit), UNIT_COLUMNS + items))
        return sheet_close(&sh);
    char names[2048], title[2600];
    join_names(names, sizeof names, pref->recommended, pref->recommended_count);
    snprintf(title, sizeof title, "%s（%s）%d 年度：名额 %d，推荐（%s）：%s", pref->unit->name,
             pref->unit->code, engine_result_year(result), pref->quota, source_label(pref->source),
             pref->recommended_count ? names : "无");
    sheet_header(&sh, st, title, unit_columns, UNIT_COLUMNS, 2);
    for (size_t k = 0; k < items; k++)
        item_header(&sh, st, programme, k);
    lxw_row_t row = 2;
    for (size_t i = 0; i < engine_result_unit_count(result); i++) {
        const engine_unit_result_t *u = engine_result_unit(result, i);
        if (u->prefecture == pref->unit)
            unit_row(&sh, st, programme, row++, u);
    }
    return sheet_close(&sh);
}

static int write_book(const engine_result_t *result, const char *path)
{
    lxw_workbook *book = workbook_new(path);
    if (!book)
        return SF_ENOMEM;
    styles_t st;
    styles_init(&st, book);
    int rc = summary_sheet(&st, result);
    for (size_t i = 0; rc == 0 && i < engine_result_prefecture_count(result); i++)
        rc = prefecture_sheet(&st, result, engine_result_prefecture(result, i));
    lxw_error closed = workbook_close(book);
    return rc ? rc : closed == LXW_NO_ERROR ? 0 : SF_EIO;
}

int render_xlsx(const engine_result_t *result, char **out, size_t *len)
{
    if (!result || !out)
        return SF_EINVAL;
    char path[XLSX_PATH_MAX];
    if (xlsx_temp_path(path) != 0)
        return SF_EIO;
    int rc = write_book(result, path);
    if (rc) {
        remove(path);
        return rc;
    }
    size_t size;
    rc = xlsx_temp_take(path, out, &size, NULL);
    if (rc == 0 && len)
        *len = size;
    return rc;
}
