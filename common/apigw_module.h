/* What every module of the project needs for its module record. The
 * modules are built with -fvisibility=hidden, so the functions they share
 * through common/ stay private to each .so (with several modules loaded,
 * one module's call can never bind to another's copy); the module record
 * is the one symbol each exports for LoadModule. Put APIGW_MODULE_EXPORT
 * on the record's declaration in the module's header and on its
 * AP_DECLARE_MODULE. */
#ifndef APIGW_MODULE_H
#define APIGW_MODULE_H

#define APIGW_MODULE_EXPORT __attribute__((visibility("default")))

#endif
